package dev.hourglass.core.engine;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.model.Job;

/**
 * Hears how every attempt's delivery went, as it ends (before its outcome is written), and which jobs failed for
 * good (after the FAILED outcome is stored). Called on the attempt's thread (or the watchdog's, for a timeout; the
 * committer's for a failure); must be fast and must not block. What it throws is logged and ignored.
 */
@FunctionalInterface
public interface DeliveryListener {
    /** Hears nothing. */
    DeliveryListener NONE = (job, attempt) -> {};

    void delivered(Job job, DeliveryAttempt attempt);

    /**
     * {@code job}'s last attempt failed it for good: its FAILED state is stored (the dead-letter state), with
     * {@code error} as its last error. A job failed by a rescue (its node died during its last attempt) is not told.
     */
    default void jobFailed(Job job, String error) {}
}
