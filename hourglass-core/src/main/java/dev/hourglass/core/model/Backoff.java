package dev.hourglass.core.model;

import java.time.Duration;
import java.util.Objects;

/**
 * Exponential backoff between attempts: {@code initial * 2^(attempt-1)}, capped at {@code max}, then "equal jitter"
 * (a random point in the upper half of the interval) so retries of a burst of jobs do not fire in lock step while
 * never retrying sooner than half the nominal delay.
 */
public record Backoff(Duration initial, Duration max) {
    public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofHours(1));

    public Backoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative() || initial.isZero()) {
            throw new IllegalArgumentException("backoff initial must be > 0, was " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff max must be >= initial, was " + max);
        }
    }

    /**
     * The delay before the attempt that follows {@code attemptsMade} failed attempts.
     *
     * @param unitRandom a uniform random number in [0, 1) that picks the jitter
     */
    public Duration delayAfter(int attemptsMade, double unitRandom) {
        long initialMs = initial.toMillis();
        long maxMs = max.toMillis();
        int shift = Math.min(Math.max(attemptsMade - 1, 0), 62);
        long nominal = initialMs > (maxMs >> shift) ? maxMs : Math.min(maxMs, initialMs << shift);
        long half = nominal / 2;
        return Duration.ofMillis(nominal - half + (long) (half * unitRandom));
    }
}
