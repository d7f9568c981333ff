package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * What {@link JobStore#countPending} counts: the SCHEDULED jobs, put in their {@link DueWindow} as seen from
 * {@code now}, due no later than {@code dueUntil}.
 *
 * @param dueUntil the last due time counted (inclusive); null counts every SCHEDULED job. A bound keeps the count
 *     to the jobs due until then (the free ones by the claim index, the held ones by the claims index), whatever
 *     the store holds beyond it.
 */
public record PendingCountParams(Instant now, Instant dueUntil) {

    public PendingCountParams {
        Objects.requireNonNull(now, "now");
    }

    /** Every SCHEDULED job. */
    public static PendingCountParams all(Instant now) {
        return new PendingCountParams(now, null);
    }

    /** The SCHEDULED jobs due until {@code dueUntil}, overdue ones included. */
    public static PendingCountParams dueUntil(Instant now, Instant dueUntil) {
        return new PendingCountParams(now, Objects.requireNonNull(dueUntil, "dueUntil"));
    }
}
