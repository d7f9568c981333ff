package dev.hourglass.core.time;

import java.time.InstantSource;

/**
 * The real clocks: the only class of the product that reads the system's time (ModuleBoundariesTest enforces it).
 * Everything else is handed an {@link InstantSource} (the wall clock: is it due) and a {@link Ticker} (monotonic:
 * waits, leases, timeouts), so tests can drive both with a {@link ManualClock}.
 */
public final class SystemTime {
    private SystemTime() {}

    public static InstantSource wallClock() {
        return InstantSource.system();
    }

    public static Ticker ticker() {
        return System::nanoTime;
    }
}
