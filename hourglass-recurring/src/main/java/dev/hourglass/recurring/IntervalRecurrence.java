package dev.hourglass.recurring;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Runs every {@code every}, in elapsed time, at {@code anchor + k * every} for k = 0, 1, 2, ...: a daylight-saving
 * change moves none of them, since no wall clock is involved.
 */
public record IntervalRecurrence(Duration every, Instant anchor) implements Recurrence {
    /** The shortest interval a schedule may have. */
    public static final Duration MINIMUM = Duration.ofSeconds(1);

    public IntervalRecurrence {
        if (every.compareTo(MINIMUM) < 0) {
            throw new InvalidScheduleException("every", "must be at least 1 second (PT1S), not " + every);
        }
    }

    /**
     * Reads an ISO-8601 duration ({@code PT15M}, {@code PT1H30M}, {@code P1D} as 24 hours).
     *
     * @throws InvalidScheduleException on field {@code every}
     */
    public static IntervalRecurrence parse(String every, Instant anchor) {
        if (every == null || every.isBlank()) {
            throw new InvalidScheduleException("every", "is required: an ISO-8601 duration such as PT15M");
        }
        try {
            return new IntervalRecurrence(Duration.parse(every.trim()), anchor);
        } catch (DateTimeParseException e) {
            throw new InvalidScheduleException("every", "\"" + every + "\" is not an ISO-8601 duration such as PT15M, "
                    + "PT1H or P1D");
        }
    }

    @Override
    public Optional<Instant> nextAfter(Instant after) {
        if (after.isBefore(anchor)) {
            return Optional.of(anchor);
        }
        Duration since = Duration.between(anchor, after);
        // Whole intervals elapsed, in nanoseconds split into seconds and the rest so that years of them stay exact.
        long periods = since.dividedBy(every) + 1;
        return Optional.of(anchor.plus(every.multipliedBy(periods)));
    }
}
