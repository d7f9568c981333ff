package dev.hourglass.core.time;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Instant helpers for the store's millisecond resolution, and the range of instants a job may be due at. */
public final class Instants {
    /**
     * The earliest due time: {@code 0000-01-01T00:00:00.000Z}. With {@link #LATEST}, the instants that RFC 3339
     * (four-digit years) can write, that every store keeps exactly (epoch milliseconds), and that format as text that
     * compares in time order. An instant outside is refused before it reaches a store.
     */
    public static final Instant EARLIEST = OffsetDateTime.of(0, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC).toInstant();
    /** The latest due time: {@code 9999-12-31T23:59:59.999Z}. */
    public static final Instant LATEST =
            OffsetDateTime.of(9999, 12, 31, 23, 59, 59, 999_000_000, ZoneOffset.UTC).toInstant();

    private Instants() {}

    /** Whether {@code instant} is within {@link #EARLIEST} .. {@link #LATEST}. */
    public static boolean inRange(Instant instant) {
        return !instant.isBefore(EARLIEST) && !instant.isAfter(LATEST);
    }

    /**
     * Rounds up to the next whole millisecond. Stores keep epoch milliseconds; rounding a due time down would let a
     * job fire up to a millisecond before the instant its caller asked for, so due times are rounded up, never down.
     */
    public static Instant ceilMillis(Instant instant) {
        Instant floor = instant.truncatedTo(ChronoUnit.MILLIS);
        return floor.equals(instant) ? floor : floor.plusMillis(1);
    }
}
