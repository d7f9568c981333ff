package dev.hourglass.core.monitor;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Settings of an {@link ErrorRateMonitor}, checked when built (a value out of range throws
 * {@link IllegalArgumentException} naming the field and the rule; nothing is silently corrected).
 *
 * <p>Time is cut into buckets of {@code bucket}, aligned to whole multiples of it since the epoch (so every node
 * with the same settings cuts at the same instants and their buckets can be merged). The window at an instant
 * {@code now} is the {@link #bucketCount()} buckets ending with the one that holds {@code now}: from
 * {@link #windowStart(Instant)} to {@link #bucketStart(Instant) bucketStart(now)} inclusive. Resolution is one
 * millisecond.
 *
 * @param bucket the width of one bucket; a whole number of milliseconds, &gt; 0
 * @param window how far back counts are kept; a positive whole multiple of {@code bucket}, at most
 *     {@value #MAX_BUCKETS} buckets (each source holds a fixed array of that many)
 * @param averageTimeConstant τ of the moving average: an attempt of age {@code a} weighs {@code e^(-a/τ)}
 * @param maxSources the most sources kept; beyond it the least recently seen is forgotten
 */
public record MonitorConfig(Duration bucket, Duration window, Duration averageTimeConstant, int maxSources) {

    /** The most buckets in a window: bounds the memory of one source. */
    public static final int MAX_BUCKETS = 10_000;

    /** One-minute buckets, a fifteen-minute window, τ = five minutes, 10 000 sources. */
    public static final MonitorConfig DEFAULTS =
            new MonitorConfig(Duration.ofMinutes(1), Duration.ofMinutes(15), Duration.ofMinutes(5), 10_000);

    public MonitorConfig {
        positive("bucket", bucket);
        positive("window", window);
        positive("averageTimeConstant", averageTimeConstant);
        if (bucket.getNano() % 1_000_000 != 0) {
            throw new IllegalArgumentException("bucket must be a whole number of milliseconds, was " + bucket);
        }
        long bucketMillis = bucket.toMillis();
        if (window.getNano() % 1_000_000 != 0 || window.toMillis() % bucketMillis != 0) {
            throw new IllegalArgumentException(
                    "window must be a whole multiple of bucket (" + bucket + "), was " + window);
        }
        if (window.toMillis() / bucketMillis > MAX_BUCKETS) {
            throw new IllegalArgumentException("window must hold at most " + MAX_BUCKETS + " buckets, was "
                    + window.toMillis() / bucketMillis + " (" + window + " / " + bucket + ")");
        }
        if (maxSources < 1) {
            throw new IllegalArgumentException("maxSources must be >= 1, was " + maxSources);
        }
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0, was " + d);
        }
    }

    /** How many buckets the window holds: {@code window / bucket}. */
    public int bucketCount() {
        return (int) (window.toMillis() / bucket.toMillis());
    }

    /** The start of the bucket that holds {@code t}: the greatest multiple of {@code bucket} since the epoch ≤ t. */
    public Instant bucketStart(Instant t) {
        return Instant.ofEpochMilli(bucketStartMillis(t.toEpochMilli()));
    }

    /** The start of the oldest bucket still in the window at {@code now}; older events are late. */
    public Instant windowStart(Instant now) {
        return Instant.ofEpochMilli(windowStartMillis(now.toEpochMilli()));
    }

    long bucketStartMillis(long millis) {
        long width = bucket.toMillis();
        return Math.floorDiv(millis, width) * width;
    }

    long windowStartMillis(long nowMillis) {
        return bucketStartMillis(nowMillis) - (bucketCount() - 1) * bucket.toMillis();
    }
}
