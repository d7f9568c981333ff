package dev.hourglass.core.time;

import java.time.InstantSource;

/** The real clocks. The only place outside tests where the system's time is read. */
public final class SystemTime {
    private SystemTime() {}

    public static InstantSource wallClock() {
        return InstantSource.system();
    }

    public static Ticker ticker() {
        return Ticker.system();
    }
}
