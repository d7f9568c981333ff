package dev.hourglass.core.api;

import java.time.Duration;
import java.util.Objects;

/**
 * How one attempt to deliver a job went: what the metrics count, the delivery history keeps and the target monitor
 * judges. The engine makes one for every attempt, with what the handler reported of it
 * ({@link JobContext#report}) or, when it reported nothing, from the attempt's outcome.
 *
 * @param targetType what kind of target: {@code in_process}, {@code webhook}, later a queue's name
 *     ({@link JobHandler#targetType()})
 * @param outcome how it ended
 * @param status the protocol's status (an HTTP status), 0 when there was none (a timeout, a refused address, a
 *     handler)
 * @param target where it went ({@link JobHandler#targetOf}): a webhook's origin, an in-process handler's name
 * @param duration from the start of the attempt to its end, on the monotonic clock
 */
public record DeliveryAttempt(String targetType, Result outcome, int status, String target, Duration duration) {

    /** The target type of handlers that run in the engine's process. */
    public static final String IN_PROCESS = "in_process";
    /** The status class of an attempt that got no status (a timeout, a refused address, a handler). */
    public static final String NO_STATUS = "none";

    /** How an attempt ended, as a metric label and in the delivery history ({@link #label()}). */
    public enum Result {
        SUCCESS, HTTP_ERROR, TIMEOUT, CONNECT_ERROR, REFUSED, HANDLER_ERROR;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** The result whose {@link #label()} is {@code label}. */
        public static Result ofLabel(String label) {
            for (Result result : values()) {
                if (result.label().equals(label)) {
                    return result;
                }
            }
            throw new IllegalArgumentException("unknown delivery outcome '" + label + "'");
        }
    }

    public DeliveryAttempt {
        Objects.requireNonNull(targetType, "targetType");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(duration, "duration");
    }

    /** The status class ({@code 2xx} ... {@code 5xx}), {@link #NO_STATUS} when there was no status. */
    public String statusClass() {
        return statusClassOf(status);
    }

    /** The status class of an HTTP status: {@code 2xx} for 200-299, and so on. */
    public static String statusClassOf(int status) {
        return status >= 100 && status <= 599 ? (status / 100) + "xx" : NO_STATUS;
    }
}
