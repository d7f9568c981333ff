package dev.hourglass.recurring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The cron dialect: what each form matches, and what a wrong expression is told. */
class CronParserTest {

    /** The matching local times in [from, from + days), UTC (no daylight saving in the way). */
    private static List<LocalDateTime> matches(String cron, String from, int days) {
        CronRecurrence recurrence = CronRecurrence.of(cron, "UTC", DstGap.SHIFT);
        LocalDateTime start = LocalDate.parse(from).atStartOfDay();
        Instant end = start.plusDays(days).toInstant(ZoneOffset.UTC);
        List<LocalDateTime> found = new ArrayList<>();
        Instant cursor = start.toInstant(ZoneOffset.UTC).minusNanos(1);
        while (true) {
            Instant next = recurrence.nextAfter(cursor).orElse(Instant.MAX);
            if (!next.isBefore(end)) {
                return found;
            }
            found.add(LocalDateTime.ofInstant(next, ZoneOffset.UTC));
            cursor = next;
        }
    }

    private static List<Integer> daysOfMonth(String cron, String month) {
        LocalDate first = LocalDate.parse(month + "-01");
        return matches(cron, first.toString(), first.lengthOfMonth()).stream()
                .map(LocalDateTime::getDayOfMonth).toList();
    }

    @Test
    void rangesListsAndSteps() {
        assertThat(matches("5-7,30 9 * * *", "2026-06-01", 1).stream().map(LocalDateTime::getMinute))
                .containsExactly(5, 6, 7, 30);
        assertThat(matches("10/20 9 * * *", "2026-06-01", 1).stream().map(LocalDateTime::getMinute))
                .containsExactly(10, 30, 50);
        assertThat(matches("0 8-18/5 * * *", "2026-06-01", 1).stream().map(LocalDateTime::getHour))
                .containsExactly(8, 13, 18);
        assertThat(matches("*/20 * * * * *", "2026-06-01", 1)).hasSize(3 * 60 * 24);
    }

    @Test
    void namesOfMonthsAndDays() {
        assertThat(daysOfMonth("0 9 * * MON-FRI", "2026-06")).hasSize(22);
        assertThat(daysOfMonth("0 9 * * SAT,SUN", "2026-06")).containsExactly(6, 7, 13, 14, 20, 21, 27, 28);
        assertThat(daysOfMonth("0 9 * * 7", "2026-06")).containsExactly(7, 14, 21, 28);
        assertThat(matches("0 0 1 JAN,jul *", "2026-01-01", 365)).extracting(LocalDateTime::getMonthValue)
                .containsExactly(1, 7);
    }

    @Test
    void lastWeekdayAndNthForms() {
        assertThat(daysOfMonth("0 0 L * *", "2026-02")).containsExactly(28);
        assertThat(daysOfMonth("0 0 L * *", "2028-02")).containsExactly(29);
        assertThat(daysOfMonth("0 0 L-3 * *", "2026-04")).containsExactly(27);
        assertThat(daysOfMonth("0 0 1,L-1 * *", "2026-02")).containsExactly(1, 27);
        // 2026-08-15 is a Saturday (15W: Friday 14th); 2026-03-01 a Sunday (1W: Monday 2nd); 2026-05-31 a Sunday.
        assertThat(daysOfMonth("0 0 15W * *", "2026-08")).containsExactly(14);
        assertThat(daysOfMonth("0 0 1W * *", "2026-03")).containsExactly(2);
        assertThat(daysOfMonth("0 0 LW * *", "2026-05")).containsExactly(29);
        // The last Friday, the second Tuesday.
        assertThat(daysOfMonth("0 0 ? * 5L", "2026-07")).containsExactly(31);
        assertThat(daysOfMonth("0 0 ? * 2#2", "2026-07")).containsExactly(14);
    }

    @Test
    void dayOfMonthAndDayOfWeekBothRestrictedMatchEither() {
        // The 13th, or any Friday (Vixie cron and POSIX).
        assertThat(daysOfMonth("0 0 13 * FRI", "2026-03")).containsExactly(6, 13, 20, 27);
        assertThat(daysOfMonth("0 0 13 * *", "2026-03")).containsExactly(13);
        assertThat(daysOfMonth("0 0 * * FRI", "2026-03")).containsExactly(6, 13, 20, 27);
    }

    @ParameterizedTest
    @CsvSource({
        "@hourly, 24", "@daily, 1", "@midnight, 1", "@weekly, 1", "@monthly, 1", "@yearly, 1", "@annually, 1"})
    void macros(String macro, int runsOnJanuaryFirst2027) {
        // 2027-01-01 is a Friday; @weekly runs on Sundays, so look at Sunday 2027-01-03 for it.
        String day = macro.equals("@weekly") ? "2027-01-03" : "2027-01-01";
        assertThat(matches(macro, day, 1)).hasSize(runsOnJanuaryFirst2027)
                .allMatch(t -> t.getMinute() == 0 && t.getSecond() == 0);
    }

    @Test
    void hourFieldDecidesBetweenFixedTimesAndElapsedTime() {
        assertThat(CronExpression.parse("30 2 * * *").fixedHours()).isTrue();
        assertThat(CronExpression.parse("0 1-3 * * *").fixedHours()).isTrue();
        assertThat(CronExpression.parse("0 0,12 * * *").fixedHours()).isTrue();
        assertThat(CronExpression.parse("*/15 * * * *").fixedHours()).isFalse();
        assertThat(CronExpression.parse("0 */2 * * *").fixedHours()).isFalse();
        assertThat(CronExpression.parse("0 0 */3 * * *").fixedHours()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "61 * * * *          | the minute field \"61\" is invalid",
        "* 24 * * *          | the hour field \"24\" is invalid",
        "* * 32 * *          | the day-of-month field \"32\" is invalid",
        "* * * 13 *          | the month field \"13\" is invalid",
        "* * * * 8           | the day-of-week field \"8\" is invalid",
        "* * * FOO *         | the month field \"FOO\" is invalid",
        "60 * * * * *        | the second field \"60\" is invalid",
        "0 0 * *             | has 4 fields; expected 5",
        "0 0 * * * * *       | has 7 fields; expected 5",
        "@fortnightly        | unknown macro \"@fortnightly\"",
        "'   '               | is required",
        "0 0 ? * L           | L without a day",
        "0 0 ? * 1#6         | the day-of-week field \"1#6\"",
        "0 9-5 * * *         | the hour field \"9-5\"",
    })
    void wrongExpressionsNameTheField(String cron, String message) {
        assertThatThrownBy(() -> CronExpression.parse(cron))
                .isInstanceOfSatisfying(InvalidScheduleException.class, e -> {
                    assertThat(e.field()).isEqualTo("cron");
                    assertThat(e.rule()).contains(message);
                });
    }

    @Test
    void anExpressionThatNeverMatchesHasNoNextRun() {
        assertThat(CronRecurrence.of("0 0 30 2 *", "UTC", DstGap.SHIFT).nextAfter(Instant.parse("2026-01-01T00:00:00Z")))
                .isEmpty();
        // The 29th of February does come round.
        assertThat(CronRecurrence.of("0 0 29 2 *", "UTC", DstGap.SHIFT).nextAfter(Instant.parse("2026-01-01T00:00:00Z")))
                .contains(Instant.parse("2028-02-29T00:00:00Z"));
    }

    @Test
    void timeZonesMustBeKnown() {
        assertThatThrownBy(() -> CronRecurrence.of("0 0 * * *", "Mars/Olympus_Mons", DstGap.SHIFT))
                .isInstanceOfSatisfying(InvalidScheduleException.class, e -> {
                    assertThat(e.field()).isEqualTo("timezone");
                    assertThat(e.rule()).contains("Mars/Olympus_Mons");
                });
        assertThatThrownBy(() -> CronRecurrence.of("0 0 * * *", null, DstGap.SHIFT))
                .isInstanceOfSatisfying(InvalidScheduleException.class,
                        e -> assertThat(e.rule()).contains("is required"));
    }

    @Test
    void intervalsRunInElapsedTimeFromTheirAnchor() {
        Instant anchor = Instant.parse("2026-03-08T06:00:00Z");
        IntervalRecurrence every = IntervalRecurrence.parse("PT15M", anchor);
        assertThat(every.nextAfter(anchor.minusSeconds(3600))).contains(anchor);
        assertThat(every.nextAfter(anchor)).contains(anchor.plus(Duration.ofMinutes(15)));
        assertThat(every.nextAfter(anchor.plus(Duration.ofMinutes(16)))).contains(anchor.plus(Duration.ofMinutes(30)));
        assertThat(every.next(anchor, 96)).hasSize(96).last().isEqualTo(anchor.plus(Duration.ofHours(24).minusMinutes(15)));
        assertThat(IntervalRecurrence.parse("P1D", anchor).nextAfter(anchor)).contains(anchor.plus(Duration.ofDays(1)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "PT0.5S | at least 1 second", "PT0S | at least 1 second", "-PT5M | at least 1 second",
        "15 minutes | not an ISO-8601 duration"})
    void intervalsBelowOneSecondOrUnreadableAreRefused(String every, String message) {
        assertThatThrownBy(() -> IntervalRecurrence.parse(every, Instant.EPOCH))
                .isInstanceOfSatisfying(InvalidScheduleException.class, e -> {
                    assertThat(e.field()).isEqualTo("every");
                    assertThat(e.rule()).contains(message);
                });
    }
}
