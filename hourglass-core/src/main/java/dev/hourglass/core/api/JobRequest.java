package dev.hourglass.core.api;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.TraceParent;
import java.time.Duration;
import java.util.Objects;

/**
 * A job to schedule. Optional parts are null until set; the engine fills in its defaults.
 *
 * @param handler the registered handler that runs it
 * @param payload bytes handed to the handler
 * @param target handler configuration (the server's webhook handler takes the target JSON), may be null
 * @param maxAttempts how many attempts before FAILED; null for the default
 * @param backoff delay between attempts; null for the default
 * @param timeout how long one attempt may run; null for the default
 * @param idempotencyKey same key and same request give the same job; same key and another request a conflict
 * @param tenant who owns the job; null for {@code default}
 * @param requestHash identifies "the same request" for idempotency; null to let the engine digest the request
 * @param traceParent the caller's trace context, which every attempt continues; null for none. Not part of the
 *     request's identity: a retry of a keyed schedule from another trace is the same request
 */
public record JobRequest(
        String handler,
        byte[] payload,
        String target,
        Integer maxAttempts,
        Backoff backoff,
        Duration timeout,
        String idempotencyKey,
        String tenant,
        byte[] requestHash,
        TraceParent traceParent) {

    public JobRequest {
        Objects.requireNonNull(handler, "handler");
        payload = payload == null ? new byte[0] : payload;
    }

    public static JobRequest of(String handler, byte[] payload) {
        return new JobRequest(handler, payload, null, null, null, null, null, null, null, null);
    }

    public JobRequest withTarget(String value) {
        return new JobRequest(handler, payload, value, maxAttempts, backoff, timeout, idempotencyKey, tenant,
                requestHash, traceParent);
    }

    public JobRequest withMaxAttempts(int value) {
        return new JobRequest(handler, payload, target, value, backoff, timeout, idempotencyKey, tenant,
                requestHash, traceParent);
    }

    public JobRequest withBackoff(Backoff value) {
        return new JobRequest(handler, payload, target, maxAttempts, value, timeout, idempotencyKey, tenant,
                requestHash, traceParent);
    }

    public JobRequest withTimeout(Duration value) {
        return new JobRequest(handler, payload, target, maxAttempts, backoff, value, idempotencyKey, tenant,
                requestHash, traceParent);
    }

    public JobRequest withIdempotencyKey(String value) {
        return new JobRequest(handler, payload, target, maxAttempts, backoff, timeout, value, tenant, requestHash,
                traceParent);
    }

    public JobRequest withTenant(String value) {
        return new JobRequest(handler, payload, target, maxAttempts, backoff, timeout, idempotencyKey, value,
                requestHash, traceParent);
    }

    public JobRequest withRequestHash(byte[] value) {
        return new JobRequest(handler, payload, target, maxAttempts, backoff, timeout, idempotencyKey, tenant,
                value, traceParent);
    }

    /** Continues the trace of {@code value} (the scheduling call's context) in every attempt. */
    public JobRequest withTraceParent(TraceParent value) {
        return new JobRequest(handler, payload, target, maxAttempts, backoff, timeout, idempotencyKey, tenant,
                requestHash, value);
    }
}
