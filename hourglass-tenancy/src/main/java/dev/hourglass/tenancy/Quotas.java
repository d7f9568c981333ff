package dev.hourglass.tenancy;

import java.time.Duration;
import java.util.Objects;

/**
 * What one tenant may use. Immutable; {@link #DEFAULTS} are generous enough that a single-team install never meets
 * them (thousands of schedules per second, millions pending). {@link #validate()} names the field and the rule when
 * a value is out of range.
 *
 * @param maxPendingJobs the most jobs the tenant may have waiting or running (SCHEDULED or RUNNING)
 * @param schedulesPerSecond the sustained schedule rate (token bucket refill per second)
 * @param scheduleBurst the token bucket's size: schedules accepted at once after a quiet spell
 * @param maxPayloadBytes the largest payload of one job
 * @param maxDelay the furthest in the future one of its jobs may be due
 * @param maxInFlight the most deliveries (attempts) of its jobs running at once on one node
 */
public record Quotas(
        long maxPendingJobs,
        long schedulesPerSecond,
        long scheduleBurst,
        int maxPayloadBytes,
        Duration maxDelay,
        int maxInFlight) {

    /**
     * Above what one node can do (docs/benchmarks.md), so that a single-team install never meets a quota;
     * {@code maxInFlight} is half the engine's default 512 slots, so that one tenant with a hanging webhook target
     * cannot take every slot.
     */
    public static final Quotas DEFAULTS = new Quotas(100_000_000, 50_000, 100_000, 256 * 1024,
            Duration.ofDays(3650), 256);

    public Quotas {
        Objects.requireNonNull(maxDelay, "maxDelay");
    }

    /** Returns this, or throws {@link IllegalArgumentException} naming the first field out of range. */
    public Quotas validate() {
        atLeast("maxPendingJobs", maxPendingJobs, 1);
        atLeast("schedulesPerSecond", schedulesPerSecond, 1);
        atLeast("scheduleBurst", scheduleBurst, 1);
        atLeast("maxPayloadBytes", maxPayloadBytes, 0);
        atLeast("maxInFlight", maxInFlight, 1);
        if (maxDelay.isNegative() || maxDelay.isZero()) {
            throw new IllegalArgumentException("maxDelay must be > 0, was " + maxDelay);
        }
        return this;
    }

    private static void atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", was " + value);
        }
    }
}
