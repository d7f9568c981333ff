package dev.hourglass.core.monitor;

import java.time.Instant;
import java.util.Objects;

/**
 * The counts of one source in one bucket: what a node may store as a row, so that a cluster can add up the rows of
 * every node for the same source and judge them with {@link WindowTotals#sum}.
 *
 * @param start the bucket's start, a multiple of the configured bucket width since the epoch
 * @param total attempts whose event time fell in the bucket, ≥ 0
 * @param errors of those, the errors; 0 ≤ errors ≤ total
 */
public record BucketCount(Instant start, long total, long errors) {
    public BucketCount {
        Objects.requireNonNull(start, "start");
        if (total < 0 || errors < 0 || errors > total) {
            throw new IllegalArgumentException("need 0 <= errors <= total, was errors=" + errors + " total=" + total);
        }
    }
}
