package dev.hourglass.core.model;

import java.time.Instant;
import java.util.Optional;

/**
 * The run of a recurring schedule that a job is, read from the job's idempotency key: the schedules module creates
 * each run with the key {@code hg-schedule:<scheduleId>:<revision>:<nominal epoch ms>}, which no caller can use
 * (the API refuses keys with this prefix). Delivery reads it to tell the receiver which run it gets.
 *
 * @param scheduleId the schedule
 * @param nominalAt  the run's nominal time: what the schedule named, before any jitter
 */
public record ScheduledRun(String scheduleId, Instant nominalAt) {
    /** The prefix of every run's idempotency key. */
    public static final String KEY_PREFIX = "hg-schedule:";

    /** The key of the run of {@code scheduleId}'s {@code revision} nominally at {@code nominalAt}. */
    public static String key(String scheduleId, long revision, Instant nominalAt) {
        return KEY_PREFIX + scheduleId + ":" + revision + ":" + nominalAt.toEpochMilli();
    }

    /** The run {@code idempotencyKey} names, if it is a run's key (a triggered run has no nominal time: empty). */
    public static Optional<ScheduledRun> fromKey(String idempotencyKey) {
        if (idempotencyKey == null || !idempotencyKey.startsWith(KEY_PREFIX)) {
            return Optional.empty();
        }
        String[] parts = idempotencyKey.substring(KEY_PREFIX.length()).split(":");
        if (parts.length != 3) {
            return Optional.empty();
        }
        try {
            Long.parseLong(parts[1]);
            return Optional.of(new ScheduledRun(parts[0], Instant.ofEpochMilli(Long.parseLong(parts[2]))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The schedule a run's key names, also for a triggered run ({@code hg-schedule:<id>:trigger:<uuid>}). */
    public static Optional<String> scheduleIdOf(String idempotencyKey) {
        if (idempotencyKey == null || !idempotencyKey.startsWith(KEY_PREFIX)) {
            return Optional.empty();
        }
        String rest = idempotencyKey.substring(KEY_PREFIX.length());
        int colon = rest.indexOf(':');
        return colon <= 0 ? Optional.empty() : Optional.of(rest.substring(0, colon));
    }
}
