package dev.hourglass.core.engine;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.model.Job;

/**
 * Hears how every attempt's delivery went, as it ends (before its outcome is written): the target monitor's feed.
 * Called on the attempt's thread (or the watchdog's, for a timeout); must be fast and must not block. What it throws
 * is logged and ignored.
 */
@FunctionalInterface
public interface DeliveryListener {
    /** Hears nothing. */
    DeliveryListener NONE = (job, attempt) -> {};

    void delivered(Job job, DeliveryAttempt attempt);
}
