package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * What {@link StoreTx#claimShare} records and counts: it records that {@code node} holds {@code claims} SCHEDULED
 * claims, then counts the live nodes (lease after {@code now}), the claims they recorded, and the unowned SCHEDULED
 * jobs due at or before {@code dueBefore}.
 */
public record ClaimShareParams(String node, long claims, Instant dueBefore, Instant now) {
    public ClaimShareParams {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(dueBefore, "dueBefore");
        Objects.requireNonNull(now, "now");
        if (claims < 0) {
            throw new IllegalArgumentException("claims must not be negative, was " + claims);
        }
    }
}
