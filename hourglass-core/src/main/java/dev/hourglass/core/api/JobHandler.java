package dev.hourglass.core.api;

import dev.hourglass.core.model.Job;

/**
 * Runs one attempt of a job. Returns an {@link Outcome} value; a thrown exception counts as
 * {@link Outcome#retry(String)} with the exception as the reason, and never kills a worker thread.
 * Called on a virtual thread; may block. Interrupted when the attempt's timeout passes.
 */
@FunctionalInterface
public interface JobHandler {
    Outcome handle(JobContext context) throws Exception;

    /**
     * True when this handler reports how each attempt's delivery ended ({@link JobContext#report}: a connect error,
     * an HTTP status). False by default: the engine then takes an attempt's result from its outcome (a success or a
     * handler error), or calls it a timeout when the watchdog ended it.
     */
    default boolean reportsDeliveries() {
        return false;
    }

    /** The kind of target this handler delivers to, as the metrics label it ({@link DeliveryAttempt#targetType}). */
    default String targetType() {
        return DeliveryAttempt.IN_PROCESS;
    }

    /**
     * Where this handler delivers {@code job}: the target the delivery history names and the target monitor
     * watches, per tenant. The default is the handler's name, so in-process handlers are watched one by one; the
     * webhook handler names the receiver's origin ({@code https://host:443}). Called once per attempt, before it
     * runs; must be cheap and must not throw (a target it cannot read is named by the handler's name).
     */
    default String targetOf(Job job) {
        return job.handler();
    }
}
