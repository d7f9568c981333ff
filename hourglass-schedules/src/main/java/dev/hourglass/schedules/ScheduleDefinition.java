package dev.hourglass.schedules;

import dev.hourglass.recurring.CronRecurrence;
import dev.hourglass.recurring.DstGap;
import dev.hourglass.recurring.IntervalRecurrence;
import dev.hourglass.recurring.InvalidScheduleException;
import dev.hourglass.recurring.Misfire;
import dev.hourglass.recurring.Recurrence;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What a recurring schedule runs and when: exactly one of {@code cron} (with its {@code timezone}) or {@code every}.
 * Immutable; {@link #recurrence()} validates it.
 *
 * @param name                 unique within the tenant, 1-200 characters
 * @param cron                 a cron expression (docs/recurring.md), or null
 * @param every                an interval of at least a second, anchored at {@code startAt} (or the creation time),
 *                             or null
 * @param timezone             the IANA zone a cron expression is read in; required with {@code cron}
 * @param dstGap               what fixed local times do in a spring gap
 * @param handler              the handler that runs each run's job ({@code webhook} on the server)
 * @param target               the handler's configuration (the webhook target JSON), may be null
 * @param payload              handed to each run; never null
 * @param maxAttempts          attempts of each run, null for the engine default
 * @param timeout              how long one attempt may run, null for the engine default
 * @param startAt              no run before this, null for none
 * @param endAt                no run after this, null for none
 * @param jitter               each run is delayed by a deterministic amount in [0, jitter)
 * @param overlap              what a run does while its predecessor is still running
 * @param misfire              what happens to runs that came due while they could not run
 * @param catchupWindow        runs older than this when found are missed whatever {@code misfire} says
 * @param anchor               where an interval counts from: {@code startAt}, or the schedule's creation time
 */
public record ScheduleDefinition(
        String name,
        String cron,
        Duration every,
        String timezone,
        DstGap dstGap,
        String handler,
        String target,
        byte[] payload,
        Integer maxAttempts,
        Duration timeout,
        Instant startAt,
        Instant endAt,
        Duration jitter,
        Overlap overlap,
        Misfire misfire,
        Duration catchupWindow,
        Instant anchor) {
    /** Runs older than this when found are missed, unless the schedule says otherwise. */
    public static final Duration DEFAULT_CATCHUP_WINDOW = Duration.ofHours(1);
    /** The longest name. */
    public static final int MAX_NAME_LENGTH = 200;

    public ScheduleDefinition {
        payload = payload == null ? new byte[0] : payload;
        dstGap = dstGap == null ? DstGap.SHIFT : dstGap;
        overlap = overlap == null ? Overlap.SKIP : overlap;
        misfire = misfire == null ? Misfire.FIRE_ONCE : misfire;
        catchupWindow = catchupWindow == null ? DEFAULT_CATCHUP_WINDOW : catchupWindow;
        jitter = jitter == null ? Duration.ZERO : jitter;
    }

    /** A cron schedule with every option at its default. */
    public static ScheduleDefinition cron(String name, String cron, String timezone, String handler) {
        return new ScheduleDefinition(name, cron, null, timezone, null, handler, null, null, null, null, null, null,
                null, null, null, null, null);
    }

    /** An interval schedule with every option at its default. */
    public static ScheduleDefinition every(String name, Duration every, String handler) {
        return new ScheduleDefinition(name, null, every, null, null, handler, null, null, null, null, null, null,
                null, null, null, null, null);
    }

    /**
     * The run times this definition names, after checking every field.
     *
     * @throws InvalidScheduleException naming the first field that is wrong
     */
    public Recurrence recurrence() {
        if (name == null || name.isBlank()) {
            throw new InvalidScheduleException("name", "is required");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new InvalidScheduleException("name", "is longer than " + MAX_NAME_LENGTH + " characters");
        }
        if (handler == null || handler.isBlank()) {
            throw new InvalidScheduleException("handler", "is required");
        }
        if (cron != null && every != null) {
            throw new InvalidScheduleException("every", "give exactly one of cron and every, not both");
        }
        if (cron == null && every == null) {
            throw new InvalidScheduleException("cron", "one of cron (with timezone) and every is required");
        }
        if (startAt != null && endAt != null && !endAt.isAfter(startAt)) {
            throw new InvalidScheduleException("endAt", "must be after startAt");
        }
        if (jitter.isNegative()) {
            throw new InvalidScheduleException("jitterSeconds", "must not be negative");
        }
        if (catchupWindow.isNegative()) {
            throw new InvalidScheduleException("catchupWindowSeconds", "must not be negative");
        }
        if (maxAttempts != null && maxAttempts < 1) {
            throw new InvalidScheduleException("maxAttempts", "must be at least 1");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new InvalidScheduleException("timeoutSeconds", "must be positive");
        }
        if (cron != null) {
            return CronRecurrence.of(cron, timezone, dstGap);
        }
        Instant from = startAt != null ? startAt : anchor;
        if (from == null) {
            throw new InvalidScheduleException("startAt", "an interval needs an anchor: startAt or the creation time");
        }
        if (every.compareTo(IntervalRecurrence.MINIMUM) < 0) {
            throw new InvalidScheduleException("every", "must be at least 1 second (PT1S), not " + every);
        }
        return new IntervalRecurrence(every, from);
    }

    /**
     * This definition anchored: at {@code startAt} if it has one, else at the anchor it has (a change keeps it),
     * else at {@code createdAt} (intervals count from it).
     */
    public ScheduleDefinition anchoredAt(Instant createdAt) {
        Objects.requireNonNull(createdAt, "createdAt");
        Instant from = startAt != null ? startAt : anchor != null ? anchor : createdAt;
        return new ScheduleDefinition(name, cron, every, timezone, dstGap, handler, target, payload, maxAttempts,
                timeout, startAt, endAt, jitter, overlap, misfire, catchupWindow, from);
    }
}
