package dev.hourglass.core.model;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A validated job ready to be inserted. {@code owner} is non-null when the inserting node claims the job at once
 * because it is due inside that node's horizon (so no second write is needed to load it into the timer).
 * {@code traceParent} is the trace context of the call that scheduled it, or null.
 */
public record NewJob(
        JobId id,
        String tenant,
        String handler,
        String target,
        byte[] payload,
        Instant dueAt,
        Instant createdAt,
        int maxAttempts,
        Backoff backoff,
        Duration timeout,
        String idempotencyKey,
        byte[] requestHash,
        String owner,
        TraceParent traceParent) {

    public NewJob {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(dueAt, "dueAt");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(backoff, "backoff");
        payload = payload == null ? new byte[0] : payload;
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
    }

    /** The job this insert creates. */
    public Job toJob() {
        return new Job(id, tenant, handler, target, payload, JobState.SCHEDULED, dueAt, createdAt, createdAt, 0,
                maxAttempts, backoff, timeout, idempotencyKey, requestHash, null, owner, 0, traceParent);
    }
}
