package dev.hourglass.recurring;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The daylight-saving rules of docs/recurring.md, on the days and zones that break other schedulers. */
class DaylightSavingTest {
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    /** Every run from the start of {@code day} (local) to the start of the next day, as offset date-times. */
    static List<OffsetDateTime> runsOn(String cron, ZoneId zone, DstGap gap, LocalDate day) {
        CronRecurrence recurrence = CronRecurrence.of(cron, zone.getId(), gap);
        Instant from = day.atStartOfDay(zone).toInstant();
        Instant to = day.plusDays(1).atStartOfDay(zone).toInstant();
        List<OffsetDateTime> runs = new ArrayList<>();
        Instant cursor = from.minusNanos(1);
        while (true) {
            Instant next = recurrence.nextAfter(cursor).orElseThrow();
            if (!next.isBefore(to)) {
                return runs;
            }
            runs.add(next.atZone(zone).toOffsetDateTime());
            cursor = next;
        }
    }

    private static OffsetDateTime at(String text) {
        return OffsetDateTime.parse(text);
    }

    @Nested
    class NewYork {
        private final LocalDate spring = LocalDate.of(2026, 3, 8);
        private final LocalDate autumn = LocalDate.of(2026, 11, 1);

        @Test
        void aTimeInTheSpringGapRunsOnceShiftedForwardByTheGap() {
            assertThat(runsOn("30 2 * * *", NEW_YORK, DstGap.SHIFT, spring))
                    .containsExactly(at("2026-03-08T03:30-04:00"));
        }

        @Test
        void aTimeInTheSpringGapDoesNotRunWithSkip() {
            assertThat(runsOn("30 2 * * *", NEW_YORK, DstGap.SKIP, spring)).isEmpty();
            assertThat(runsOn("30 2 * * *", NEW_YORK, DstGap.SKIP, spring.plusDays(1)))
                    .containsExactly(at("2026-03-09T02:30-04:00"));
        }

        @Test
        void aTimeAfterTheOverlapRunsOnceInTheNewOffset() {
            assertThat(runsOn("30 2 * * *", NEW_YORK, DstGap.SHIFT, autumn))
                    .containsExactly(at("2026-11-01T02:30-05:00"));
        }

        @Test
        void aTimeThatOccursTwiceRunsOnceAtItsFirstOccurrence() {
            assertThat(runsOn("30 1 * * *", NEW_YORK, DstGap.SHIFT, autumn))
                    .containsExactly(at("2026-11-01T01:30-04:00"));
        }

        @Test
        void everyFifteenMinutesFollowsElapsedTime() {
            List<OffsetDateTime> springRuns = runsOn("*/15 * * * *", NEW_YORK, DstGap.SHIFT, spring);
            assertThat(springRuns).hasSize(92)
                    .contains(at("2026-03-08T01:45-05:00"), at("2026-03-08T03:00-04:00"))
                    .noneMatch(run -> run.getHour() == 2);
            List<OffsetDateTime> autumnRuns = runsOn("*/15 * * * *", NEW_YORK, DstGap.SHIFT, autumn);
            assertThat(autumnRuns).hasSize(100)
                    .contains(at("2026-11-01T01:15-04:00"), at("2026-11-01T01:15-05:00"));
            assertThat(autumnRuns.stream().map(OffsetDateTime::toInstant)).isSorted().doesNotHaveDuplicates();
        }

        @Test
        void aStepInTheHourFieldAlsoFollowsElapsedTime() {
            assertThat(runsOn("0 */2 * * *", NEW_YORK, DstGap.SHIFT, spring)).hasSize(11)
                    .doesNotContain(at("2026-03-08T03:00-04:00"));
            assertThat(runsOn("30 */1 * * *", NEW_YORK, DstGap.SHIFT, autumn)).hasSize(25)
                    .contains(at("2026-11-01T01:30-04:00"), at("2026-11-01T01:30-05:00"));
        }

        @Test
        void anHourRangeIsFixedLocalTimes() {
            assertThat(runsOn("0 1-3 * * *", NEW_YORK, DstGap.SHIFT, autumn))
                    .containsExactly(at("2026-11-01T01:00-04:00"), at("2026-11-01T02:00-05:00"),
                            at("2026-11-01T03:00-05:00"));
            // 02:00 shifts to 03:00, which the schedule names anyway: one run.
            assertThat(runsOn("0 1-3 * * *", NEW_YORK, DstGap.SHIFT, spring))
                    .containsExactly(at("2026-03-08T01:00-05:00"), at("2026-03-08T03:00-04:00"));
        }

        @Test
        void shiftedTimesKeepTheirOrderWithTheRunsAfterTheGap() {
            // 02:45 shifts to 03:45, after 03:10, which is in the schedule too.
            assertThat(runsOn("10,45 2,3 * * *", NEW_YORK, DstGap.SHIFT, spring))
                    .containsExactly(at("2026-03-08T03:10-04:00"), at("2026-03-08T03:45-04:00"));
        }
    }

    @Test
    void amsterdamWithASecondsField() {
        ZoneId amsterdam = ZoneId.of("Europe/Amsterdam");
        assertThat(runsOn("0 5 0 * * *", amsterdam, DstGap.SHIFT, LocalDate.of(2026, 3, 29)))
                .containsExactly(at("2026-03-29T00:05+01:00"));
        assertThat(runsOn("0 5 0 * * *", amsterdam, DstGap.SHIFT, LocalDate.of(2026, 3, 30)))
                .containsExactly(at("2026-03-30T00:05+02:00"));
        assertThat(runsOn("30 * 2 * * *", amsterdam, DstGap.SHIFT, LocalDate.of(2026, 10, 25)))
                .hasSize(60).allMatch(run -> run.getOffset().getTotalSeconds() == 7200);
    }

    @Test
    void cairoWhoseGapIsAtMidnight() {
        ZoneId cairo = ZoneId.of("Africa/Cairo");
        LocalDate day = LocalDate.of(2026, 4, 24);
        assertThat(cairo.getRules().getTransition(day.atStartOfDay())).as("Cairo's 2026 spring change")
                .isNotNull().matches(t -> t.isGap());
        assertThat(runsOn("0 0 * * *", cairo, DstGap.SHIFT, day)).containsExactly(at("2026-04-24T01:00+03:00"));
        assertThat(runsOn("30 0 * * *", cairo, DstGap.SHIFT, day)).containsExactly(at("2026-04-24T01:30+03:00"));
        assertThat(runsOn("0 0 * * *", cairo, DstGap.SKIP, day)).isEmpty();
        assertThat(runsOn("*/30 * * * *", cairo, DstGap.SHIFT, day)).hasSize(46);
    }

    @Test
    void lordHoweWhoseClocksMoveHalfAnHour() {
        ZoneId lordHowe = ZoneId.of("Australia/Lord_Howe");
        LocalDate spring = LocalDate.of(2026, 10, 4);
        LocalDate autumn = LocalDate.of(2026, 4, 5);
        assertThat(runsOn("15 2 * * *", lordHowe, DstGap.SHIFT, spring)).containsExactly(at("2026-10-04T02:45+11:00"));
        assertThat(runsOn("45 1 * * *", lordHowe, DstGap.SHIFT, autumn)).containsExactly(at("2026-04-05T01:45+11:00"));
        assertThat(runsOn("*/15 * * * *", lordHowe, DstGap.SHIFT, spring)).hasSize(94);
        assertThat(runsOn("*/15 * * * *", lordHowe, DstGap.SHIFT, autumn)).hasSize(98);
    }

    @Test
    void apiaSkippedAWholeDay() {
        ZoneId apia = ZoneId.of("Pacific/Apia");
        // 2011-12-29 24:00 at -10:00 was followed by 2011-12-31 00:00 at +14:00: the 30th never happened there.
        CronRecurrence noon = CronRecurrence.of("0 12 * * *", "Pacific/Apia", DstGap.SHIFT);
        Instant from = ZonedDateTime.of(2011, 12, 28, 13, 0, 0, 0, apia).toInstant();
        // The 30th's noon shifts by the 24-hour gap onto the 31st's noon: one run.
        assertThat(noon.next(from, 3).stream().map(i -> i.atZone(apia).toOffsetDateTime()))
                .containsExactly(at("2011-12-29T12:00-10:00"), at("2011-12-31T12:00+14:00"),
                        at("2012-01-01T12:00+14:00"));
        CronRecurrence hourly = CronRecurrence.of("0 * * * *", "Pacific/Apia", DstGap.SHIFT);
        assertThat(hourly.nextAfter(ZonedDateTime.of(2011, 12, 29, 23, 30, 0, 0, apia).toInstant()))
                .contains(OffsetDateTime.parse("2011-12-31T00:00+14:00").toInstant());
    }
}
