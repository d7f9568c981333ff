package dev.hourglass.core.api;

/**
 * Runs one attempt of a job. Returns an {@link Outcome} value; a thrown exception counts as
 * {@link Outcome#retry(String)} with the exception as the reason, and never kills a worker thread.
 * Called on a virtual thread; may block. Interrupted when the attempt's timeout passes.
 */
@FunctionalInterface
public interface JobHandler {
    Outcome handle(JobContext context) throws Exception;
}
