package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * What {@link StoreTx#yieldClaims} hands back: {@code count} of {@code node}'s SCHEDULED claims due after
 * {@code keepThrough}, the latest due first: the node keeps the jobs it is closest to firing.
 *
 * @param keepThrough claims due at or before it are never yielded: they fire too soon to change hands
 * @param now the time of the write (stored as the jobs' update time)
 */
public record YieldParams(String node, Instant keepThrough, int count, Instant now) {
    public YieldParams {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(keepThrough, "keepThrough");
        Objects.requireNonNull(now, "now");
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1, was " + count);
        }
    }
}
