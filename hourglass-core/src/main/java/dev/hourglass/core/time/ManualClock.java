package dev.hourglass.core.time;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A wall clock and a ticker that move only when told: tests drive time exactly instead of sleeping.
 * {@link #setWall} may move the wall clock backwards (to simulate an NTP step) while the ticker stays monotonic.
 */
public final class ManualClock implements InstantSource, Ticker {
    private final AtomicLong wallMillis;
    private final AtomicLong nanos = new AtomicLong();

    public ManualClock(Instant start) {
        this.wallMillis = new AtomicLong(start.toEpochMilli());
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(wallMillis.get());
    }

    @Override
    public long millis() {
        return wallMillis.get();
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    /** Moves both clocks forward. */
    public void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("time only moves forward; use setWall to step the wall clock back");
        }
        wallMillis.addAndGet(d.toMillis());
        nanos.addAndGet(d.toNanos());
    }

    /** Steps only the wall clock, in either direction. */
    public void setWall(Instant instant) {
        wallMillis.set(instant.toEpochMilli());
    }
}
