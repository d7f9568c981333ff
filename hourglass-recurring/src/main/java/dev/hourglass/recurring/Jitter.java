package dev.hourglass.recurring;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/**
 * A run's jitter: a delay in [0, jitter) that depends only on the schedule's id and the run's nominal time, so every
 * node computes the same due time for the same run (and a retried creation is idempotent). A run is never moved
 * before its nominal time.
 */
public final class Jitter {
    private Jitter() {}

    /** The due time of the run nominally at {@code nominal}: {@code nominal} plus its jitter, millisecond grain. */
    public static Instant dueTime(String scheduleId, Instant nominal, Duration jitter) {
        long spanMillis = jitter.toMillis();
        if (spanMillis <= 0) {
            return nominal;
        }
        long hash = mix(fnv1a(scheduleId) ^ nominal.toEpochMilli());
        return nominal.plusMillis(Math.floorMod(hash, spanMillis));
    }

    /** FNV-1a over the id's UTF-8 bytes: the same on every JVM and in every release, which the run ids and due times rely on. */
    private static long fnv1a(String text) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /** SplitMix64's finaliser: neighbouring nominal times land far apart in the window. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
