package dev.hourglass.core.store;

import dev.hourglass.core.api.DeliveryAttempt;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One attempt of a job as the delivery history keeps it: written with the attempt's outcome, in the same transaction
 * ({@link FinishRun#attempt()}), so the history holds a row exactly for the attempts whose end the job's state
 * records. An attempt whose outcome was never recorded (its node died, or lost its claim) has no row.
 *
 * @param attempt the attempt's number, 1 for the first; unique per job (a retry by hand continues the numbers)
 * @param node the node that ran it
 * @param startedAt when it started, on the wall clock (of the cluster)
 * @param finishedAt when it ended, on the same clock
 * @param outcome how it ended
 * @param status the receiver's HTTP status, 0 when it answered none
 * @param target where it went, as the delivery names it (a webhook's origin, an in-process handler's name); may be
 *     null
 * @param detail a bounded excerpt of the error or of the receiver's answer to a failure; null on success
 * @param duration how long it ran, measured on the monotonic clock
 */
public record AttemptRecord(int attempt, String node, Instant startedAt, Instant finishedAt,
        DeliveryAttempt.Result outcome, int status, String target, String detail, Duration duration) {

    /** The longest {@link #detail} kept, in characters; longer ones are cut (a job's last error is bounded alike). */
    public static final int MAX_DETAIL_CHARS = 1024;

    public AttemptRecord {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1");
        }
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(duration, "duration");
        if (detail != null && detail.length() > MAX_DETAIL_CHARS) {
            detail = detail.substring(0, MAX_DETAIL_CHARS);
        }
    }

    /** True when the attempt ended in a success. */
    public boolean succeeded() {
        return outcome == DeliveryAttempt.Result.SUCCESS;
    }
}
