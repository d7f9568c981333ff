package dev.hourglass.core.store;

import dev.hourglass.core.api.DeliveryAttempt;
import java.time.Instant;

/**
 * What the dead-letter list and a bulk retry by hand filter FAILED jobs on, besides their tenant: how the job's last
 * recorded attempt ended and where it went (the job's {@code last_outcome} and {@code last_target}, written with each
 * recorded attempt), and when the job finished. Each filter is optional (null: any); a job that has no recorded
 * attempt matches only filters on what it has.
 *
 * @param target only jobs whose last recorded attempt went to exactly this target (a webhook's origin
 *     {@code scheme://host:port}, an in-process handler's name), or null for any
 * @param outcome only jobs whose last recorded attempt ended so, or null for any
 * @param finishedSince only jobs that finished at or after this instant, or null for any
 */
public record DeadLetterFilter(String target, DeliveryAttempt.Result outcome, Instant finishedSince) {

    /** No filter: every job. */
    public static final DeadLetterFilter ANY = new DeadLetterFilter(null, null, null);

    /** True when this filter leaves out nothing. */
    public boolean isAny() {
        return target == null && outcome == null && finishedSince == null;
    }
}
