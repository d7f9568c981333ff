package dev.hourglass.core.api;

/**
 * Runs one attempt of a job. Returns an {@link Outcome} value; a thrown exception counts as
 * {@link Outcome#retry(String)} with the exception as the reason, and never kills a worker thread.
 * Called on a virtual thread; may block. Interrupted when the attempt's timeout passes.
 */
@FunctionalInterface
public interface JobHandler {
    Outcome handle(JobContext context) throws Exception;

    /**
     * True when this handler reports each of its attempts itself, with what it knows of the target (see
     * {@link DeliveryAttempt}); the engine then reports none for it. False by default: the engine reports each
     * attempt as {@code in_process}, a success, a handler error or a timeout.
     */
    default boolean reportsDeliveries() {
        return false;
    }
}
