package dev.hourglass.recurring;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;

/**
 * A parsed cron expression: the local date-times it matches, as bit masks (immutable). It knows nothing of time zones;
 * {@link CronRecurrence} maps its local times to instants under the daylight-saving rules.
 *
 * <p>Days: when both the day-of-month and the day-of-week field are restricted (neither is {@code *} nor {@code ?}),
 * a day matches if either does, as in Vixie cron and POSIX; when one is unrestricted the other decides.
 *
 * @param text        the expression as given (trimmed)
 * @param seconds     bit s set: second s (0-59); {0} for a five-field expression
 * @param minutes     bit m set: minute m (0-59)
 * @param hours       bit h set: hour h (0-23)
 * @param months      bit m set: month m (1-12)
 * @param fixedHours  false when the hour field is {@code *} or a step: the expression then follows elapsed time
 *                    across daylight-saving changes, otherwise it names fixed local times (docs/recurring.md)
 */
public record CronExpression(String text, long seconds, long minutes, long hours, DaysOfMonth daysOfMonth,
        long months, DaysOfWeek daysOfWeek, boolean fixedHours) {

    /** Parses {@code text}; see {@link CronParser#parse(String)}. */
    public static CronExpression parse(String text) {
        return CronParser.parse(text);
    }

    /** Whether {@code time} (whole seconds) is one of the expression's local times. */
    public boolean matches(LocalDateTime time) {
        return time.getNano() == 0
                && has(months, time.getMonthValue())
                && matchesDay(time.toLocalDate())
                && has(hours, time.getHour())
                && has(minutes, time.getMinute())
                && has(seconds, time.getSecond());
    }

    /**
     * The first local time at or after {@code from} that the expression matches, if it is before {@code until};
     * otherwise null. Jumps field by field (month, day, hour, minute, second), so a call costs at most a few
     * operations for each day it passes over.
     */
    public LocalDateTime nextMatch(LocalDateTime from, LocalDateTime until) {
        LocalDateTime t = from.getNano() == 0 ? from : from.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        while (t.isBefore(until)) {
            if (!has(months, t.getMonthValue())) {
                t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay();
                continue;
            }
            if (!matchesDay(t.toLocalDate())) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
                continue;
            }
            int hour = next(hours, t.getHour());
            if (hour < 0 || hour > 23) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
                continue;
            }
            if (hour != t.getHour()) {
                t = t.withHour(hour).withMinute(0).withSecond(0);
            }
            int minute = next(minutes, t.getMinute());
            if (minute < 0 || minute > 59) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
                continue;
            }
            if (minute != t.getMinute()) {
                t = t.withMinute(minute).withSecond(0);
            }
            int second = next(seconds, t.getSecond());
            if (second < 0 || second > 59) {
                t = t.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
                continue;
            }
            t = t.withSecond(second);
            return t.isBefore(until) ? t : null;
        }
        return null;
    }

    private boolean matchesDay(LocalDate date) {
        boolean domRestricted = daysOfMonth.restricted();
        boolean dowRestricted = daysOfWeek.restricted();
        if (domRestricted && dowRestricted) {
            return daysOfMonth.matches(date) || daysOfWeek.matches(date);
        }
        if (domRestricted) {
            return daysOfMonth.matches(date);
        }
        return !dowRestricted || daysOfWeek.matches(date);
    }

    private static boolean has(long mask, int value) {
        return (mask & (1L << value)) != 0;
    }

    /** The lowest set bit at or above {@code from}, or -1. */
    private static int next(long mask, int from) {
        long rest = mask & (-1L << from);
        return rest == 0 ? -1 : Long.numberOfTrailingZeros(rest);
    }
}
