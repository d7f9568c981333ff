package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import java.time.Instant;
import java.util.Objects;

/**
 * Finish a running attempt. For a retry ({@code to == SCHEDULED}) {@code dueAt} is the next attempt's due time and
 * {@code nextOwner} the node that keeps the claim (null to leave it for the horizon loader).
 *
 * @param tenant the job's tenant, which the history row repeats (the store need not read the job for it); required
 *     with an attempt, else may be null
 * @param attempt the attempt for the delivery history, written in the same transaction when the finish wins its
 *     compare-and-set (and the job's last outcome and target set from it); null to record none
 */
public record FinishRun(
        JobId id, String owner, long fencingToken, JobState to, Instant dueAt, String nextOwner, String error,
        Instant now, String tenant, AttemptRecord attempt) {

    public FinishRun {
        if (attempt != null) {
            Objects.requireNonNull(tenant, "tenant (required with an attempt)");
        }
    }

    /** A finish that records no attempt in the history. */
    public FinishRun(JobId id, String owner, long fencingToken, JobState to, Instant dueAt, String nextOwner,
            String error, Instant now) {
        this(id, owner, fencingToken, to, dueAt, nextOwner, error, now, null, null);
    }
}
