package dev.hourglass.core.time;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The cluster clock: this node's wall clock corrected by its measured offset from the store's clock, so that every
 * node sharing a store times jobs and leases by one clock (the store's) instead of each by its own. A job scheduled
 * "in 5 s" on one node and fired by another whose clock runs ahead would otherwise fire early by that skew.
 *
 * <p>Measured NTP-style: one {@link #sample} reads this node's wall clock and the ticker, asks the store for its
 * time (one round trip), and reads the ticker again. The store read its clock somewhere inside the round trip, so
 * {@code offset = store - (localBefore + rtt/2)} is exact to within {@code rtt/2}. A round trip that was held up (a
 * busy pool, a slow network) says less, so of the last {@value #WINDOW} samples the one with the smallest error
 * bound is used. A sample's bound grows with its age at {@value #DRIFT_PPM} ppm (the frequency tolerance NTP assumes
 * of a disciplined clock), so an old exact sample gives way to a fresh one in time.
 *
 * <p>Hand-written rather than a dependency: it is a few dozen lines, and it is the heart of the never-early promise,
 * so every step of it should be readable here. Invariants:
 * <ul>
 *   <li>No successful sample yet: the offset is zero (this node's own clock, as without a store clock).
 *   <li>A sample that fails (the store throws, or answers no clock) changes nothing: the previous estimate stays.
 *   <li>A new sample that disagrees with an older one by more than their two error bounds together means one of the
 *       clocks stepped (NTP stepped this node's clock, say): the older samples are dropped, never mixed in.
 *   <li>The correction applied is the measured offset less its error bound, or zero when the offset is within its
 *       error bound: clocks that agree as far as the measurement can tell are left alone (nodes on one machine, or
 *       synchronised by NTP closer than the round trip, keep their own clock, without jitter from sample to
 *       sample). A corrected node runs at most twice the bound behind the store's clock and never ahead of it; a
 *       node left alone is within one bound of it.
 *   <li>The estimate is one immutable value behind a volatile field: {@link #instant} never locks.
 * </ul>
 */
public final class StoreClock implements InstantSource {
    /** Samples kept; at one per 10 s, about a minute and a half of them. */
    public static final int WINDOW = 8;
    /** How fast a sample's error bound grows with its age, in parts per million. */
    static final long DRIFT_PPM = 15;

    private final InstantSource base;
    private final Ticker ticker;
    private final Supplier<Optional<Instant>> storeClock;
    /** Oldest first; guarded by {@code this} (samples are taken one at a time, estimates read lock-free). */
    private final List<Sample> samples = new ArrayList<>();
    private volatile Estimate estimate = Estimate.NONE;

    /**
     * @param base this node's wall clock
     * @param ticker the monotonic clock that times each round trip
     * @param storeClock one read of the store's clock (a round trip); empty if the store has none
     */
    public StoreClock(InstantSource base, Ticker ticker, Supplier<Optional<Instant>> storeClock) {
        this.base = Objects.requireNonNull(base, "base");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.storeClock = Objects.requireNonNull(storeClock, "storeClock");
    }

    /** The store's time, as well as this node knows it: the wall clock plus the applied offset. */
    @Override
    public Instant instant() {
        return base.instant().plus(estimate.applied());
    }

    /** The current estimate; {@link Estimate#NONE} until a sample succeeded. */
    public Estimate estimate() {
        return estimate;
    }

    /**
     * Takes one sample and returns the estimate it leads to, or empty (and nothing changed) if the store has no
     * clock. Whatever the store's read throws is passed on, and the previous estimate stays.
     */
    public synchronized Optional<Estimate> sample() {
        // The ticker first, then the wall clock: both readings of this node then lie inside [before, after], so a
        // pause between them (a busy machine descheduling this thread) widens the round trip, and with it the error
        // bound, instead of shifting the offset unseen. Read the other way round, a pause after the wall read would
        // make this node look ahead of the store by the pause, and its jobs would fire early by as much.
        long before = ticker.nanoTime();
        Instant localBefore = base.instant();
        Optional<Instant> store = storeClock.get();
        long after = ticker.nanoTime();
        if (store.isEmpty()) {
            return Optional.empty();
        }
        long rtt = Math.max(0, after - before);
        Instant localMid = localBefore.plusNanos(rtt / 2);
        Sample fresh = new Sample(Duration.between(localMid, store.get()), rtt, after);
        samples.removeIf(old -> !fresh.agreesWith(old, after));
        samples.add(fresh);
        if (samples.size() > WINDOW) {
            samples.removeFirst();
        }
        Sample best = fresh;
        for (Sample s : samples) {
            if (s.errorAt(after) < best.errorAt(after)) {
                best = s;
            }
        }
        Estimate next = Estimate.of(best.offset(), Duration.ofNanos(best.errorAt(after)));
        estimate = next;
        return Optional.of(next);
    }

    /**
     * One measurement: the store's clock minus this node's at the middle of the round trip, the round trip, and
     * the ticker reading at its end (for its age).
     */
    private record Sample(Duration offset, long rttNanos, long takenAt) {
        /** Half the round trip, plus what either clock may have drifted since. */
        long errorAt(long now) {
            long age = Math.max(0, now - takenAt);
            return rttNanos / 2 + age / 1_000_000 * DRIFT_PPM;
        }

        /** False when the two offsets cannot both be right: a clock stepped between them. */
        boolean agreesWith(Sample older, long now) {
            long apart = Math.abs(offset.minus(older.offset).toNanos());
            return apart <= errorAt(now) + older.errorAt(now);
        }
    }

    /**
     * What this node knows of the store's clock.
     *
     * @param measured the store's clock minus this node's wall clock, as measured
     * @param errorBound how far the true offset may be from {@code measured}
     * @param applied the correction {@link #instant} adds: {@code measured - errorBound} (never ahead of the store's
     *     clock), or zero if {@code measured} is within {@code errorBound} of zero
     */
    public record Estimate(Duration measured, Duration errorBound, Duration applied) {
        /** No sample yet: no correction, and nothing known. */
        public static final Estimate NONE = new Estimate(Duration.ZERO, Duration.ZERO, Duration.ZERO);

        public Estimate {
            Objects.requireNonNull(measured, "measured");
            Objects.requireNonNull(errorBound, "errorBound");
            Objects.requireNonNull(applied, "applied");
            if (errorBound.isNegative()) {
                throw new IllegalArgumentException("errorBound must be >= 0, was " + errorBound);
            }
        }

        static Estimate of(Duration measured, Duration errorBound) {
            // Within the bound the clocks agree as far as this measurement can tell: nothing is applied. Outside
            // it the true offset lies in [measured - bound, measured + bound], and the low end is applied: the node
            // then runs at most twice the bound behind the store's clock and never ahead of it, because running
            // ahead is firing early (the midpoint would leave it up to one bound ahead).
            boolean agree = measured.abs().compareTo(errorBound) <= 0;
            return new Estimate(measured, errorBound, agree ? Duration.ZERO : measured.minus(errorBound));
        }
    }
}
