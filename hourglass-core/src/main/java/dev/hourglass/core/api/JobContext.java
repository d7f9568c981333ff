package dev.hourglass.core.api;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.ScheduledRun;
import dev.hourglass.core.model.TraceParent;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One attempt of a job, as handed to its handler. The pair (id, attempt) is unique per attempt: pass it on as an
 * idempotency key so that a repeated delivery (at-least-once) can be recognised downstream.
 *
 * @param reports where {@link #report} goes: the engine's record of this attempt
 */
public record JobContext(Job job, DeliveryReports reports) {

    /** Receives how an attempt's delivery ended, from a handler that knows ({@link JobHandler#reportsDeliveries}). */
    @FunctionalInterface
    public interface DeliveryReports {
        /** Nowhere: for a context made outside the engine (a test calling a handler). */
        DeliveryReports NONE = (result, status) -> {};

        void report(DeliveryAttempt.Result result, int status);
    }

    public JobContext {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(reports, "reports");
    }

    /** A context whose reports go nowhere. */
    public JobContext(Job job) {
        this(job, DeliveryReports.NONE);
    }

    /**
     * Tells the engine how this attempt's delivery ended, as the handler saw it: the delivery history, the metrics
     * and the target monitor record it. The last report before the handler returns counts; one after the attempt
     * timed out is ignored (the engine records a timeout).
     *
     * @param status the protocol's status (an HTTP status), 0 for none
     */
    public void report(DeliveryAttempt.Result result, int status) {
        reports.report(result, status);
    }

    public JobId id() {
        return job.id();
    }

    /** 1 for the first attempt. */
    public int attempt() {
        return job.attempts();
    }

    public Instant dueAt() {
        return job.dueAt();
    }

    public byte[] payload() {
        return job.payload();
    }

    /** The handler's target configuration (for webhooks: the target JSON), may be null. */
    public String target() {
        return job.target();
    }

    public String tenant() {
        return job.tenant();
    }

    /** The run of a recurring schedule this job is, if it is one ({@link ScheduledRun}). */
    public Optional<ScheduledRun> scheduledRun() {
        return ScheduledRun.fromKey(job.idempotencyKey());
    }

    /** The fencing token of this attempt's claim. */
    public long fencingToken() {
        return job.fencingToken();
    }

    /**
     * The trace context of the call that scheduled the job (its W3C {@code traceparent}), or empty. A handler that
     * traces continues that trace: with OpenTelemetry, extract it with {@code W3CTraceContextPropagator} and make
     * it the parent of the attempt's span, so the attempt shows in the caller's trace however late it runs.
     */
    public Optional<TraceParent> traceParent() {
        return Optional.ofNullable(job.traceParent());
    }
}
