package dev.hourglass.recurring;

import java.time.LocalDate;

/**
 * The day-of-week field of a cron expression. Days are numbered as in cron: 0 (or 7) Sunday, 1 Monday ... 6 Saturday.
 *
 * @param days        bit d set: every day d
 * @param lastInMonth bit d set: {@code dL}, the month's last day d (5L: the last Friday)
 * @param nth         bit {@code d * 5 + (n - 1)} set: {@code d#n}, the month's n-th day d (n 1-5)
 * @param restricted  false for {@code *} and {@code ?}: the field then leaves the day to the day-of-month field
 */
public record DaysOfWeek(int days, int lastInMonth, long nth, boolean restricted) {

    boolean matches(LocalDate date) {
        int dow = date.getDayOfWeek().getValue() % 7;
        if ((days & (1 << dow)) != 0) {
            return true;
        }
        if ((lastInMonth & (1 << dow)) != 0 && date.getDayOfMonth() + 7 > date.lengthOfMonth()) {
            return true;
        }
        int n = (date.getDayOfMonth() - 1) / 7 + 1;
        return (nth & (1L << (dow * 5 + n - 1))) != 0;
    }
}
