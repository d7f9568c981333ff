package dev.hourglass.core.time;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** Instant helpers for the store's millisecond resolution. */
public final class Instants {
    private Instants() {}

    /**
     * Rounds up to the next whole millisecond. Stores keep epoch milliseconds; rounding a due time down would let a
     * job fire up to a millisecond before the instant its caller asked for, so due times are rounded up, never down.
     */
    public static Instant ceilMillis(Instant instant) {
        Instant floor = instant.truncatedTo(ChronoUnit.MILLIS);
        return floor.equals(instant) ? floor : floor.plusMillis(1);
    }
}
