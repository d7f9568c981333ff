package dev.hourglass.core.model;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A job as stored: immutable. {@code owner} and {@code fencingToken} describe the current claim: the node that
 * holds the job in its timer (SCHEDULED) or runs it (RUNNING), and the token that node must present to start or
 * finish it. Every claim increments the token, so a stale owner's write is rejected.
 *
 * @param handler the name of the handler that runs it (the server registers one named {@code webhook})
 * @param target opaque handler configuration (the webhook target as JSON), may be null
 * @param payload opaque bytes handed to the handler; never null (empty when absent)
 * @param idempotencyKey the caller's key, unique per tenant, may be null
 * @param requestHash a digest of the request that created the job, to tell a retry from a conflicting reuse of a key;
 *     null when the job has no idempotency key
 * @param timeout how long one attempt may run, null for the engine default
 * @param traceParent the trace context of the call that scheduled it, which every attempt continues; may be null
 */
public record Job(
        JobId id,
        String tenant,
        String handler,
        String target,
        byte[] payload,
        JobState state,
        Instant dueAt,
        Instant createdAt,
        Instant updatedAt,
        int attempts,
        int maxAttempts,
        Backoff backoff,
        Duration timeout,
        String idempotencyKey,
        byte[] requestHash,
        String lastError,
        String owner,
        long fencingToken,
        TraceParent traceParent) {

    public Job {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(dueAt, "dueAt");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        Objects.requireNonNull(backoff, "backoff");
        payload = payload == null ? new byte[0] : payload;
    }

    public boolean attemptsExhausted() {
        return attempts >= maxAttempts;
    }
}
