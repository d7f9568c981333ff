package dev.hourglass.core.api;

import java.time.Duration;
import java.util.Objects;

/**
 * How one attempt to deliver a job went, as the delivery saw it: for metrics. The engine reports one for every
 * attempt of an in-process handler ({@code in_process}); a handler that knows more (the webhook handler: the HTTP
 * status, a connect error) reports its own and says so with {@link JobHandler#reportsDeliveries()}.
 *
 * @param targetType what kind of target: {@code in_process}, {@code webhook}, later a queue's name
 * @param outcome how it ended
 * @param statusClass the protocol's status class ({@code 2xx} ... {@code 5xx}), {@code none} when there was no status
 * @param duration from the start of the attempt to its end, on the monotonic clock
 */
public record DeliveryAttempt(String targetType, Result outcome, String statusClass, Duration duration) {

    /** The target type of handlers that run in the engine's process. */
    public static final String IN_PROCESS = "in_process";
    /** The status class of an attempt that got no status (a timeout, a refused address, a handler). */
    public static final String NO_STATUS = "none";

    /** How an attempt ended, as a metric label ({@link #label()}). */
    public enum Result {
        SUCCESS, HTTP_ERROR, TIMEOUT, CONNECT_ERROR, REFUSED, HANDLER_ERROR;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public DeliveryAttempt {
        Objects.requireNonNull(targetType, "targetType");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(statusClass, "statusClass");
        Objects.requireNonNull(duration, "duration");
    }

    /** The status class of an HTTP status: {@code 2xx} for 200-299, and so on. */
    public static String statusClassOf(int status) {
        return status >= 100 && status <= 599 ? (status / 100) + "xx" : NO_STATUS;
    }
}
