package dev.hourglass.core.model;

import java.util.UUID;

/**
 * A job id: a UUIDv7 (RFC 9562), so ids sort by creation time and inserts append to the end of the store's index.
 * The high 64 bits (48-bit Unix-ms timestamp, version, 12-bit monotonic counter) are unique per store and serve
 * as its primary key; the low 64 bits are random and make ids unguessable.
 */
public record JobId(long hi, long lo) implements Comparable<JobId> {

    public static JobId parse(String text) {
        UUID uuid;
        try {
            uuid = UUID.fromString(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a job id: " + text);
        }
        if (uuid.version() != 7 || text.length() != 36) {
            throw new IllegalArgumentException("not a job id: " + text);
        }
        return new JobId(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
    }

    /** Like {@link #parse} but returns null for text that is not a job id. */
    public static JobId parseOrNull(String text) {
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public long timestampMillis() {
        return hi >>> 16;
    }

    @Override
    public int compareTo(JobId o) {
        int c = Long.compareUnsigned(hi, o.hi);
        return c != 0 ? c : Long.compareUnsigned(lo, o.lo);
    }

    @Override
    public String toString() {
        return new UUID(hi, lo).toString();
    }
}
