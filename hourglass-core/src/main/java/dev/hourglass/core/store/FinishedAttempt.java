package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import java.util.Objects;

/**
 * A row of the delivery history with the job it belongs to: what the target monitor reads, of every node, to count
 * each target's attempts ({@link JobStore#attemptsFinishedSince}).
 */
public record FinishedAttempt(JobId jobId, String tenant, AttemptRecord attempt) {
    public FinishedAttempt {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(attempt, "attempt");
    }
}
