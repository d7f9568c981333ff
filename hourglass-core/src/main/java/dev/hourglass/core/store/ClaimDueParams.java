package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * What {@link StoreTx#claimDue} claims: up to {@code limit} unowned SCHEDULED jobs due at or before
 * {@code dueBefore}, earliest first, for {@code owner}.
 *
 * @param now the time of the write (stored as the jobs' update time)
 */
public record ClaimDueParams(String owner, Instant dueBefore, int limit, Instant now) {
    public ClaimDueParams {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(dueBefore, "dueBefore");
        Objects.requireNonNull(now, "now");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
    }
}
