package dev.hourglass.recurring;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Misfire and catch-up after downtime, and the jitter of run times. */
class CatchUpTest {
    private static final Duration HOUR = Duration.ofHours(1);

    private static Instant at(String text) {
        return OffsetDateTime.parse(text).toInstant();
    }

    @Test
    void downtimeAcrossTheAutumnChangeInNewYork() {
        // Every 15 minutes; down from 00:50 EDT to 01:40 EST on 2026-11-01: 01:00-01:45 EDT and 01:00-01:30 EST were
        // due, 7 runs, of which the 4 from 01:45 EDT on are inside the one-hour window (it opens at 01:40 EDT).
        CronRecurrence every15 = CronRecurrence.of("*/15 * * * *", "America/New_York", DstGap.SHIFT);
        Instant lastRun = at("2026-11-01T00:45-04:00");
        Instant now = at("2026-11-01T01:40-05:00");
        CatchUp once = CatchUp.plan(every15, lastRun, now, Misfire.FIRE_ONCE, HOUR, null);
        assertThat(once.run()).containsExactly(at("2026-11-01T01:30-05:00"));
        assertThat(once.missed()).isEqualTo(6);
        assertThat(once.nextAfter()).contains(at("2026-11-01T01:45-05:00"));

        CatchUp all = CatchUp.plan(every15, lastRun, now, Misfire.FIRE_ALL, HOUR, null);
        assertThat(all.run()).containsExactly(at("2026-11-01T01:45-04:00"), at("2026-11-01T01:00-05:00"),
                at("2026-11-01T01:15-05:00"), at("2026-11-01T01:30-05:00"));
        assertThat(all.missed()).isEqualTo(3);

        CatchUp none = CatchUp.plan(every15, lastRun, now, Misfire.SKIP, HOUR, null);
        assertThat(none.run()).isEmpty();
        assertThat(none.missed()).isEqualTo(7);
    }

    @Test
    void downtimeAcrossTheSpringChangeCountsTheShiftedRunOnce() {
        // Daily at 02:30 and 03:30: on 2026-03-08 02:30 shifts onto 03:30, one run that day.
        CronRecurrence daily = CronRecurrence.of("30 2,3 * * *", "America/New_York", DstGap.SHIFT);
        Instant lastRun = at("2026-03-07T03:30-05:00");
        Instant now = at("2026-03-08T04:00-04:00");
        CatchUp all = CatchUp.plan(daily, lastRun, now, Misfire.FIRE_ALL, Duration.ofDays(2), null);
        assertThat(all.run()).containsExactly(at("2026-03-08T03:30-04:00"));
        assertThat(all.missed()).isZero();
    }

    @Test
    void fireAllMakesUpForTheLatestHundredAtMost() {
        IntervalRecurrence everySecond = IntervalRecurrence.parse("PT1S", at("2026-01-01T00:00Z"));
        Instant now = at("2026-01-01T00:10Z");
        CatchUp all = CatchUp.plan(everySecond, at("2026-01-01T00:00Z"), now, Misfire.FIRE_ALL, HOUR, null);
        assertThat(all.run()).hasSize(CatchUp.MAX_FIRE_ALL).last().isEqualTo(now);
        assertThat(all.run().getFirst()).isEqualTo(now.minusSeconds(99));
        assertThat(all.missed()).isEqualTo(600 - 100);
    }

    @Test
    void nothingAfterTheEndAndNoNextRun() {
        IntervalRecurrence hourly = IntervalRecurrence.parse("PT1H", at("2026-01-01T00:00Z"));
        CatchUp plan = CatchUp.plan(hourly, at("2026-01-01T00:00Z"), at("2026-01-01T05:30Z"), Misfire.FIRE_ALL,
                Duration.ofDays(1), at("2026-01-01T03:00Z"));
        assertThat(plan.run()).containsExactly(at("2026-01-01T01:00Z"), at("2026-01-01T02:00Z"),
                at("2026-01-01T03:00Z"));
        assertThat(plan.nextAfter()).isEmpty();
    }

    @Test
    void nothingOverdueMeansNothingToRun() {
        IntervalRecurrence hourly = IntervalRecurrence.parse("PT1H", at("2026-01-01T00:00Z"));
        CatchUp plan = CatchUp.plan(hourly, at("2026-01-01T00:00Z"), at("2026-01-01T00:59Z"), Misfire.FIRE_ONCE,
                HOUR, null);
        assertThat(plan.run()).isEmpty();
        assertThat(plan.missed()).isZero();
        assertThat(plan.nextAfter()).contains(at("2026-01-01T01:00Z"));
    }

    @Test
    void jitterIsDeterministicWithinItsWindowAndNeverEarly() {
        Instant nominal = at("2026-06-01T12:00Z");
        Duration jitter = Duration.ofSeconds(30);
        Set<Instant> distinct = new HashSet<>();
        for (int minute = 0; minute < 200; minute++) {
            Instant run = nominal.plus(Duration.ofMinutes(minute));
            Instant due = Jitter.dueTime("sch_1", run, jitter);
            assertThat(due).isBetween(run, run.plus(jitter).minusMillis(1));
            assertThat(Jitter.dueTime("sch_1", run, jitter)).isEqualTo(due);
            distinct.add(Instant.ofEpochMilli(due.toEpochMilli() - run.toEpochMilli()));
        }
        assertThat(distinct).as("offsets spread over the window").hasSizeGreaterThan(150);
        assertThat(Jitter.dueTime("sch_1", nominal, jitter)).isNotEqualTo(Jitter.dueTime("sch_2", nominal, jitter));
        assertThat(Jitter.dueTime("sch_1", nominal, Duration.ZERO)).isEqualTo(nominal);
    }
}
