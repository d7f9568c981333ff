package dev.hourglass.recurring;

import java.time.DayOfWeek;
import java.time.LocalDate;

/**
 * The day-of-month field of a cron expression.
 *
 * @param days           bit d set: day d of the month (1-31); a day past the month's length never matches
 * @param fromLast       bit n set: {@code L-n}, n days before the month's last day ({@code L} is bit 0); no match in
 *                       a month of n days or fewer
 * @param nearestWeekday bit d set: {@code dW}, the weekday (Monday-Friday) nearest to day d, never leaving the month;
 *                       no match in a month shorter than d days
 * @param lastWeekday    {@code LW}: the month's last weekday
 * @param restricted     false for {@code *} and {@code ?}: the field then leaves the day to the day-of-week field
 */
public record DaysOfMonth(long days, long fromLast, long nearestWeekday, boolean lastWeekday, boolean restricted) {

    boolean matches(LocalDate date) {
        int day = date.getDayOfMonth();
        int length = date.lengthOfMonth();
        if ((days & (1L << day)) != 0) {
            return true;
        }
        if ((fromLast & (1L << (length - day))) != 0) {
            return true;
        }
        if (lastWeekday && date.equals(weekdayOnOrBefore(date.withDayOfMonth(length)))) {
            return true;
        }
        if (nearestWeekday != 0 && isWeekday(date)) {
            // A weekday can be the nearest weekday of itself, of the Saturday before it (a Friday) or of the Sunday
            // after it... checked from the candidate targets' side, which is at most three days.
            for (int target = Math.max(1, day - 1); target <= Math.min(length, day + 2); target++) {
                if ((nearestWeekday & (1L << target)) != 0 && nearestWeekdayTo(date.withDayOfMonth(target)) == day) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Quartz's {@code W}: Saturday moves to Friday and Sunday to Monday, unless that leaves the month. */
    static int nearestWeekdayTo(LocalDate target) {
        int day = target.getDayOfMonth();
        return switch (target.getDayOfWeek()) {
            case SATURDAY -> day == 1 ? 3 : day - 1;
            case SUNDAY -> day == target.lengthOfMonth() ? day - 2 : day + 1;
            default -> day;
        };
    }

    private static LocalDate weekdayOnOrBefore(LocalDate date) {
        LocalDate d = date;
        while (!isWeekday(d)) {
            d = d.minusDays(1);
        }
        return d;
    }

    private static boolean isWeekday(LocalDate date) {
        DayOfWeek dow = date.getDayOfWeek();
        return dow != DayOfWeek.SATURDAY && dow != DayOfWeek.SUNDAY;
    }
}
