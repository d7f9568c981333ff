package dev.hourglass.core.monitor;

import java.time.Instant;

/**
 * A snapshot of one source, computed by {@link ErrorRateMonitor} at its clock's now.
 *
 * @param source the source
 * @param total attempts in the buckets still in the window at now
 * @param errors errors among them, ≤ total
 * @param errorRate errors / total; 0 when total is 0
 * @param movingAverage the error rate averaged with weights {@code e^(-age/τ)} by event time over every event kept
 *     (not only the window's); 0 before any event. It does not fade to 0 when the source goes quiet: with no new
 *     events every weight shrinks by the same factor and the ratio stays
 * @param consecutiveFailures errors in a row, in arrival order, since the last non-error event
 * @param lastError the message of the error with the latest event time, cut to
 *     {@value ErrorRateMonitor#MAX_MESSAGE_CHARS} characters; null if none or if it had none
 * @param lastErrorAt the event time of that error (clamped to the clock's now if it was ahead); null if none
 * @param lastSeen the latest event time seen (clamped likewise)
 */
public record SourceStats(
        String source,
        long total,
        long errors,
        double errorRate,
        double movingAverage,
        int consecutiveFailures,
        String lastError,
        Instant lastErrorAt,
        Instant lastSeen) {

    /** The counts as an input to {@link AlarmState#next}. */
    public Evaluation evaluation() {
        return new Evaluation(total, errors, consecutiveFailures);
    }
}
