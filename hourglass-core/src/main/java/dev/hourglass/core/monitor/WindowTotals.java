package dev.hourglass.core.monitor;

import java.time.Instant;
import java.util.Collection;
import java.util.Objects;

/**
 * Attempts and errors summed over the buckets still in the window at some instant.
 *
 * @param total attempts, ≥ 0
 * @param errors errors among them; 0 ≤ errors ≤ total
 */
public record WindowTotals(long total, long errors) {
    public WindowTotals {
        if (total < 0 || errors < 0 || errors > total) {
            throw new IllegalArgumentException("need 0 <= errors <= total, was errors=" + errors + " total=" + total);
        }
    }

    /** errors / total; 0 when there were no attempts. */
    public double errorRate() {
        return total == 0 ? 0.0 : (double) errors / total;
    }

    /**
     * Sums the buckets whose start is in the window at {@code now} under {@code config} (see {@link MonitorConfig});
     * others are ignored. Buckets with the same start (rows of several nodes for one source) simply add up, so the
     * merged rows of a cluster are judged as one node's would be. {@code now} is the caller's clock.
     *
     * @throws IllegalArgumentException if a bucket's start is not a multiple of {@code config.bucket()}: it was cut
     *     with other settings, and adding it would count a different span of time
     */
    public static WindowTotals sum(Collection<BucketCount> buckets, Instant now, MonitorConfig config) {
        Objects.requireNonNull(now, "now");
        long nowMillis = now.toEpochMilli();
        long from = config.windowStartMillis(nowMillis);
        long to = config.bucketStartMillis(nowMillis);
        long total = 0;
        long errors = 0;
        for (BucketCount b : buckets) {
            long start = b.start().toEpochMilli();
            if (config.bucketStartMillis(start) != start || b.start().getNano() % 1_000_000 != 0) {
                throw new IllegalArgumentException(
                        "bucket start " + b.start() + " is not a multiple of the bucket width " + config.bucket());
            }
            if (start >= from && start <= to) {
                total = Math.addExact(total, b.total());
                errors = Math.addExact(errors, b.errors());
            }
        }
        return new WindowTotals(total, errors);
    }
}
