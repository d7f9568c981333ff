package dev.hourglass.core.time;

/**
 * A monotonic nanosecond source: measures waits, leases and timeouts. It never jumps with the wall clock, so a
 * timeout cannot fire early or hang because somebody set the date. The wall clock ({@link java.time.InstantSource})
 * decides only "is it due".
 */
@FunctionalInterface
public interface Ticker {
    long nanoTime();

    /** The system's monotonic clock ({@link SystemTime#ticker()}). */
    static Ticker system() {
        return SystemTime.ticker();
    }
}
