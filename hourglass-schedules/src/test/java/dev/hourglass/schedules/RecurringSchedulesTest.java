package dev.hourglass.schedules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.recurring.DstGap;
import dev.hourglass.recurring.InvalidScheduleException;
import dev.hourglass.recurring.Misfire;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.sqlite.SqliteJobStore;
import dev.hourglass.testing.ManualEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recurring schedules on the real engine and a real SQLite file, on a manual clock: runs are created ahead as jobs,
 * fire at their times and never before, and pauses, changes, deletes and downtime do what docs/recurring.md says.
 */
class RecurringSchedulesTest {
    private static final Instant START = Instant.parse("2026-03-07T12:00:00Z");
    private static final String TENANT = "default";

    @TempDir
    Path dir;

    /** What each run saw: the job, and the engine's clock when its handler ran. */
    record Fired(Job job, Instant at) {}

    private final List<Fired> fired = new CopyOnWriteArrayList<>();
    private ManualEngine engine;
    private JobStore jobs;
    private ScheduleStore store;
    private RecurringSchedules schedules;

    /** While set, a run's handler holds until {@link #release} opens (the first such run only). */
    private final AtomicBoolean holdNext = new AtomicBoolean();
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() {
        jobs = SqliteJobStore.open(dir.resolve("jobs.db"));
        store = JdbcScheduleStore.on((SqlDatabase) jobs);
        JobHandler tick = ctx -> {
            fired.add(new Fired(engine.hourglass().getStatus(ctx.id()).orElseThrow(), engine.now()));
            if (holdNext.compareAndSet(true, false)) {
                held.countDown();
                release.await();
            }
            return Outcome.succeeded();
        };
        engine = ManualEngine.start(Hourglass.builder().store(jobs).handler("tick", new OverlapGuard(tick, store,
                jobs)), START);
        schedules = new RecurringSchedules(engine.hourglass(), store);
    }

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    /** Moves time in steps, as a node would: materialize, then run what is due. */
    private void runFor(Duration total, Duration step) {
        for (Duration done = Duration.ZERO; done.compareTo(total) < 0; done = done.plus(step)) {
            engine.advance(step);
            schedules.materializeDue();
            engine.runDue();
        }
    }

    private static ScheduleDefinition cron(String name, String cron, String zone) {
        return ScheduleDefinition.cron(name, cron, zone, "tick");
    }

    private List<Instant> firedDueTimes() {
        return fired.stream().map(f -> f.job().dueAt()).toList();
    }

    @Test
    void runsAreCreatedAheadAndFireOnTimeNeverEarly() {
        Schedule schedule = schedules.create(TENANT, cron("every-minute", "* * * * *", "UTC"), false);
        assertThat(schedule.nextRunAt()).isEqualTo(Instant.parse("2026-03-07T12:01:00Z"));
        assertThat(store.runsAfter(schedule.id(), START)).as("the next run exists in the store already")
                .extracting(ScheduleRun::nominalAt).containsExactly(Instant.parse("2026-03-07T12:01:00Z"));

        runFor(Duration.ofMinutes(10), Duration.ofSeconds(1));

        assertThat(fired).hasSize(10);
        assertThat(fired).allSatisfy(f -> {
            assertThat(f.at()).as("never early").isAfterOrEqualTo(f.job().dueAt());
            assertThat(f.job().idempotencyKey()).startsWith(RecurringSchedules.RUN_KEY_PREFIX + schedule.id());
        });
        assertThat(firedDueTimes()).containsExactly(START.plusSeconds(60), START.plusSeconds(120),
                START.plusSeconds(180), START.plusSeconds(240), START.plusSeconds(300), START.plusSeconds(360),
                START.plusSeconds(420), START.plusSeconds(480), START.plusSeconds(540), START.plusSeconds(600));
        Schedule after = schedules.get(TENANT, schedule.id()).orElseThrow();
        assertThat(after.lastRunAt()).isEqualTo(START.plusSeconds(600));
        assertThat(after.nextRunAt()).isEqualTo(START.plusSeconds(660));
        assertThat(after.missedRuns()).isZero();
    }

    @Test
    void runTimesAreTheSameWhicheverNodeComputesThemFromTheStore() {
        // A clock with a fraction of a millisecond: the store keeps milliseconds, and a node that reads the schedule
        // back must compute the very run times the creating node did (else their requests under one key differ).
        engine.advance(Duration.ofNanos(123_456));
        Schedule schedule = schedules.create(TENANT, ScheduleDefinition.every("precise", Duration.ofSeconds(7),
                "tick"), false);
        Schedule stored = store.find(TENANT, schedule.id()).orElseThrow();
        Instant recomputed = stored.definition().recurrence().nextAfter(stored.createdAt()).orElseThrow();
        assertThat(store.runsAfter(schedule.id(), START).getFirst().nominalAt()).isEqualTo(recomputed)
                .isEqualTo(START.plusSeconds(7));
        // A second node materializing from the store finds the same run, not a conflicting one.
        RecurringSchedules otherNode = new RecurringSchedules(engine.hourglass(), store);
        engine.advance(Duration.ofSeconds(10));
        assertThat(otherNode.materializeDue()).isEqualTo(1);
        engine.runDue();
        assertThat(firedDueTimes()).containsExactly(START.plusSeconds(7));
    }

    @Test
    void aChangeKeepsAnIntervalsAnchor() {
        Schedule schedule = schedules.create(TENANT, ScheduleDefinition.every("anchored", Duration.ofSeconds(10),
                "tick"), false);
        engine.advance(Duration.ofSeconds(3));
        ScheduleDefinition current = schedule.definition();
        ScheduleDefinition withPayload = new ScheduleDefinition(current.name(), null, current.every(), null, null,
                "tick", null, new byte[] {1}, null, null, null, null, null, null, null, null, current.anchor());
        Schedule changed = schedules.update(TENANT, schedule.id(), withPayload).orElseThrow();
        assertThat(changed.nextRunAt()).isEqualTo(START.plusSeconds(10));
    }

    @Test
    void aDailyRunAcrossTheSpringChangeInNewYork() {
        // Lookahead of an hour so that ten-minute steps keep the next run created ahead.
        schedules = new RecurringSchedules(engine.hourglass(), store, Duration.ofHours(1));
        schedules.create(TENANT, cron("nightly", "30 2 * * *", "America/New_York"), false);

        runFor(Duration.ofDays(3), Duration.ofMinutes(10));

        ZoneId newYork = ZoneId.of("America/New_York");
        assertThat(fired.stream().map(f -> f.job().dueAt().atZone(newYork).toOffsetDateTime()))
                .containsExactly(OffsetDateTime.parse("2026-03-08T03:30-04:00"),
                        OffsetDateTime.parse("2026-03-09T02:30-04:00"),
                        OffsetDateTime.parse("2026-03-10T02:30-04:00"));
        assertThat(fired).allSatisfy(f -> assertThat(f.at()).isAfterOrEqualTo(f.job().dueAt()));
    }

    @Test
    void twoNodesMaterializingTheSameScheduleCreateEachRunOnce() {
        RecurringSchedules otherNode = new RecurringSchedules(engine.hourglass(), store);
        Schedule schedule = schedules.create(TENANT, ScheduleDefinition.every("often", Duration.ofSeconds(5),
                "tick"), false);
        for (int second = 0; second < 60; second++) {
            engine.advance(Duration.ofSeconds(1));
            otherNode.materializeDue();
            schedules.materializeDue();
            engine.runDue();
        }
        assertThat(fired).hasSize(12);
        assertThat(fired.stream().map(f -> f.job().id()).distinct()).hasSize(12);
        assertThat(firedDueTimes()).doesNotHaveDuplicates().isSorted();
        assertThat(store.runsAfter(schedule.id(), START).stream().map(ScheduleRun::jobId).distinct()).hasSize(
                store.runsAfter(schedule.id(), START).size());
    }

    @Test
    void downtimeIsMadeUpForByTheMisfireRule() {
        Schedule schedule = schedules.create(TENANT, ScheduleDefinition.every("ten-minutes", Duration.ofMinutes(10),
                "tick"), false);
        runFor(Duration.ofMinutes(10), Duration.ofSeconds(5));
        assertThat(fired).hasSize(1);

        // The service is down for two hours: nothing materializes, and the one run created ahead fires late.
        engine.advance(Duration.ofHours(2));
        engine.runDue();
        fired.clear();
        schedules.materializeDue();
        engine.runDue();

        // Runs at 12:20 ... 14:10 came due; the one created ahead (12:20) fired as a late job. Of the rest, 12:30 ...
        // 14:10 (11 runs), the 4 before 13:10 are outside the one-hour window, and of the 7 inside it fireOnce runs
        // 14:10: 10 missed.
        Schedule after = schedules.get(TENANT, schedule.id()).orElseThrow();
        assertThat(firedDueTimes()).contains(Instant.parse("2026-03-07T14:10:00Z"));
        assertThat(after.missedRuns()).isEqualTo(10);
        assertThat(after.nextRunAt()).isEqualTo(Instant.parse("2026-03-07T14:20:00Z"));
    }

    @Test
    void fireAllMakesUpForEachRunInTheWindow() {
        ScheduleDefinition d = ScheduleDefinition.every("all", Duration.ofMinutes(10), "tick");
        d = new ScheduleDefinition(d.name(), null, d.every(), null, null, "tick", null, null, null, null, null, null,
                null, null, Misfire.FIRE_ALL, Duration.ofMinutes(30), null);
        Schedule schedule = schedules.create(TENANT, d, true);
        engine.advance(Duration.ofMinutes(65));
        schedules.resume(TENANT, schedule.id());
        engine.runDue();
        // Paused since creation; 12:10 ... 13:00 came due; 12:40, 12:50 and 13:00 are within 30 minutes.
        // They are all due at once, so they may run in any order.
        assertThat(firedDueTimes()).containsExactlyInAnyOrder(Instant.parse("2026-03-07T12:40:00Z"),
                Instant.parse("2026-03-07T12:50:00Z"), Instant.parse("2026-03-07T13:00:00Z"));
        assertThat(schedules.get(TENANT, schedule.id()).orElseThrow().missedRuns()).isEqualTo(3);
    }

    @Test
    void pauseCancelsTheRunsNotYetStartedAndResumeGoesOn() {
        Schedule schedule = schedules.create(TENANT, ScheduleDefinition.every("pausable", Duration.ofSeconds(2),
                "tick"), false);
        List<ScheduleRun> pending = store.runsAfter(schedule.id(), START);
        assertThat(pending).isNotEmpty();

        Schedule paused = schedules.pause(TENANT, schedule.id()).orElseThrow();
        assertThat(paused.paused()).isTrue();
        assertThat(pending).allSatisfy(run -> assertThat(engine.hourglass().getStatus(run.jobId()).orElseThrow()
                .state()).isEqualTo(JobState.CANCELLED));
        runFor(Duration.ofSeconds(30), Duration.ofSeconds(1));
        assertThat(fired).as("nothing runs while paused").isEmpty();

        schedules.resume(TENANT, schedule.id());
        engine.runDue();
        runFor(Duration.ofSeconds(10), Duration.ofSeconds(1));
        // fireOnce made up for the 15 runs that came due while paused with one; then every 2 s.
        assertThat(fired).hasSize(1 + 5);
        assertThat(schedules.get(TENANT, schedule.id()).orElseThrow().missedRuns()).isEqualTo(14);
        assertThat(fired).allSatisfy(f -> assertThat(f.at()).isAfterOrEqualTo(f.job().dueAt()));
    }

    @Test
    void aNewDefinitionReplacesTheRunsToCome() {
        Schedule schedule = schedules.create(TENANT, cron("changing", "0 * * * *", "UTC"), false);
        ScheduleRun first = store.runsAfter(schedule.id(), START).getFirst();

        Schedule changed = schedules.update(TENANT, schedule.id(), cron("changing", "30 * * * *", "UTC"))
                .orElseThrow();

        assertThat(engine.hourglass().getStatus(first.jobId()).orElseThrow().state()).isEqualTo(JobState.CANCELLED);
        assertThat(changed.definition().cron()).isEqualTo("30 * * * *");
        assertThat(changed.nextRunAt()).isEqualTo(Instant.parse("2026-03-07T12:30:00Z"));
        runFor(Duration.ofMinutes(91), Duration.ofSeconds(5));
        assertThat(firedDueTimes()).containsExactly(Instant.parse("2026-03-07T12:30:00Z"),
                Instant.parse("2026-03-07T13:30:00Z"));
    }

    @Test
    void deleteCancelsTheRunsToCome() {
        Schedule schedule = schedules.create(TENANT, ScheduleDefinition.every("gone", Duration.ofSeconds(3), "tick"),
                false);
        List<ScheduleRun> pending = store.runsAfter(schedule.id(), START);

        assertThat(schedules.delete(TENANT, schedule.id())).isTrue();

        assertThat(pending).allSatisfy(run -> assertThat(engine.hourglass().getStatus(run.jobId()).orElseThrow()
                .state()).isEqualTo(JobState.CANCELLED));
        assertThat(schedules.get(TENANT, schedule.id())).isEmpty();
        runFor(Duration.ofSeconds(20), Duration.ofSeconds(1));
        assertThat(fired).isEmpty();
        assertThat(schedules.delete(TENANT, schedule.id())).isFalse();
    }

    @Test
    void triggerRunsOnceNow() {
        Schedule schedule = schedules.create(TENANT, cron("rare", "0 0 1 1 *", "UTC"), false);
        assertThat(schedules.trigger(TENANT, schedule.id())).isPresent();
        engine.runDue();
        assertThat(fired).hasSize(1);
        assertThat(fired.getFirst().at()).isEqualTo(START);
    }

    @Test
    void previewListsTheNextRunsWithTheirLocalTimes() {
        Schedule schedule = schedules.create(TENANT, cron("preview", "30 2 * * *", "America/New_York"), false);
        List<RunTime> times = schedules.preview(schedule, 3);
        assertThat(times).extracting(RunTime::local).containsExactly(
                OffsetDateTime.parse("2026-03-08T03:30-04:00"), OffsetDateTime.parse("2026-03-09T02:30-04:00"),
                OffsetDateTime.parse("2026-03-10T02:30-04:00"));
        assertThat(times.getFirst().at()).isEqualTo(Instant.parse("2026-03-08T07:30:00Z"));
    }

    @Test
    void runsCarryTheSchedulesHandlerPayloadAndTenant() {
        ScheduleDefinition d = new ScheduleDefinition("payload", null, Duration.ofSeconds(10), null, DstGap.SHIFT,
                "tick", "{\"url\":\"x\"}", "hello".getBytes(StandardCharsets.UTF_8), 3, Duration.ofSeconds(7), null,
                null, null, null, null, null, null);
        schedules.create("acme", d, false);
        runFor(Duration.ofSeconds(10), Duration.ofSeconds(1));
        assertThat(fired).singleElement().satisfies(f -> {
            assertThat(f.job().tenant()).isEqualTo("acme");
            assertThat(f.job().payload()).asString(StandardCharsets.UTF_8).isEqualTo("hello");
            assertThat(f.job().target()).isEqualTo("{\"url\":\"x\"}");
            assertThat(f.job().maxAttempts()).isEqualTo(3);
            assertThat(f.job().timeout()).isEqualTo(Duration.ofSeconds(7));
        });
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndNothingIsStored() {
        assertRefused(cron("bad", "61 * * * *", "UTC"), "cron");
        assertRefused(cron("bad", "0 0 * * *", "Nowhere/Land"), "timezone");
        assertRefused(cron("bad", "0 0 * * *", null), "timezone");
        assertRefused(ScheduleDefinition.every("bad", Duration.ofMillis(500), "tick"), "every");
        assertRefused(cron("bad", "0 0 30 2 *", "UTC"), "cron");
        ScheduleDefinition backwards = new ScheduleDefinition("bad", "0 0 * * *", null, "UTC", null, "tick", null,
                null, null, null, START.plusSeconds(3600), START, null, null, null, null, null);
        assertRefused(backwards, "endAt");
        assertRefused(new ScheduleDefinition("bad", "0 0 * * *", Duration.ofMinutes(1), "UTC", null, "tick", null,
                null, null, null, null, null, null, null, null, null, null), "every");
        assertRefused(cron("", "0 0 * * *", "UTC"), "name");
        assertThat(store.list(TENANT, null, 100)).isEmpty();
        assertThat(engine.hourglass().list(new JobQuery(TENANT, null, null, 100)).jobs()).isEmpty();
    }

    @Test
    void aNameIsUniqueWithinItsTenant() {
        schedules.create(TENANT, cron("same", "0 0 * * *", "UTC"), false);
        assertThatThrownBy(() -> schedules.create(TENANT, cron("same", "0 1 * * *", "UTC"), false))
                .isInstanceOf(ScheduleNameTakenException.class);
        assertThat(schedules.create("other", cron("same", "0 0 * * *", "UTC"), false)).isNotNull();
    }

    @Test
    void anIdempotencyKeyFindsTheScheduleItCreated() {
        byte[] hash = {1, 2, 3};
        CreateResult first = schedules.create(TENANT, cron("keyed", "0 0 * * *", "UTC"), false, "k1", hash);
        assertThat(first).isInstanceOf(CreateResult.Created.class);
        String id = ((CreateResult.Created) first).schedule().id();
        assertThat(schedules.create(TENANT, cron("keyed", "0 0 * * *", "UTC"), false, "k1", hash))
                .isEqualTo(new CreateResult.Duplicate(id));
        assertThat(schedules.create(TENANT, cron("other", "0 1 * * *", "UTC"), false, "k1", new byte[] {9}))
                .isEqualTo(new CreateResult.Conflict(id));
        assertThat(schedules.create("beta", cron("keyed", "0 0 * * *", "UTC"), false, "k1", hash))
                .as("keys are per tenant").isInstanceOf(CreateResult.Created.class);
        assertThat(store.list(TENANT, null, 10)).hasSize(1);
        assertThat(store.runsAfter(id, START)).hasSize(1);
    }

    @Test
    void overlapSkipCancelsARunWhosePredecessorStillRuns() throws Exception {
        Schedule schedule = schedules.create(TENANT, ScheduleDefinition.every("slow", Duration.ofSeconds(10), "tick"),
                false);
        holdNext.set(true);
        engine.advance(Duration.ofSeconds(10));
        schedules.materializeDue();
        engine.startDue();
        assertThat(held.await(10, TimeUnit.SECONDS)).as("the first run holds").isTrue();

        engine.advance(Duration.ofSeconds(10));
        schedules.materializeDue();
        engine.startDue();
        ScheduleRun second = store.runBefore(schedule.id(), START.plusSeconds(21)).orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> state(second) == JobState.CANCELLED);
        assertThat(engine.hourglass().getStatus(second.jobId()).orElseThrow().lastError())
                .contains("skipped").contains("overlap: skip");
        assertThat(store.find(TENANT, schedule.id()).orElseThrow().skippedRuns()).isEqualTo(1);

        release.countDown();
        engine.awaitIdle();
        runFor(Duration.ofSeconds(10), Duration.ofSeconds(1));
        assertThat(firedDueTimes()).as("the first and the third ran; the second was skipped")
                .containsExactly(START.plusSeconds(10), START.plusSeconds(30));
    }

    @Test
    void overlapBufferOneWaitsForThePredecessorAndSkipsASecondWaiter() throws Exception {
        ScheduleDefinition d = ScheduleDefinition.every("buffered", Duration.ofSeconds(10), "tick");
        d = new ScheduleDefinition(d.name(), null, d.every(), null, null, "tick", null, null, null,
                Duration.ofMinutes(5), null, null, null, Overlap.BUFFER_ONE, null, null, null);
        Schedule schedule = schedules.create(TENANT, d, false);
        holdNext.set(true);
        engine.advance(Duration.ofSeconds(10));
        schedules.materializeDue();
        engine.startDue();
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();

        engine.advance(Duration.ofSeconds(10));
        schedules.materializeDue();
        engine.startDue();   // the second run waits inside its attempt
        ScheduleRun second = store.runBefore(schedule.id(), START.plusSeconds(21)).orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> state(second) == JobState.RUNNING);
        engine.advance(Duration.ofSeconds(10));
        schedules.materializeDue();
        engine.startDue();   // the third finds the second waiting: skipped
        ScheduleRun third = store.runBefore(schedule.id(), START.plusSeconds(31)).orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> state(third) == JobState.CANCELLED);
        assertThat(fired).hasSize(1);

        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> state(second) == JobState.SUCCEEDED);
        engine.awaitIdle();
        assertThat(firedDueTimes()).containsExactly(START.plusSeconds(10), START.plusSeconds(20));
        assertThat(store.find(TENANT, schedule.id()).orElseThrow().skippedRuns()).isEqualTo(1);
    }

    @Test
    void overlapAllowRunsThemSideBySide() throws Exception {
        ScheduleDefinition d = ScheduleDefinition.every("parallel", Duration.ofSeconds(10), "tick");
        d = new ScheduleDefinition(d.name(), null, d.every(), null, null, "tick", null, null, null, null, null, null,
                null, Overlap.ALLOW, null, null, null);
        schedules.create(TENANT, d, false);
        holdNext.set(true);
        engine.advance(Duration.ofSeconds(10));
        schedules.materializeDue();
        engine.startDue();
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        engine.advance(Duration.ofSeconds(10));
        schedules.materializeDue();
        engine.startDue();
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 2);
        release.countDown();
        engine.awaitIdle();
        assertThat(firedDueTimes()).containsExactly(START.plusSeconds(10), START.plusSeconds(20));
    }

    private JobState state(ScheduleRun run) {
        return engine.hourglass().getStatus(run.jobId()).orElseThrow().state();
    }

    private void assertRefused(ScheduleDefinition definition, String field) {
        assertThatThrownBy(() -> schedules.create(TENANT, definition, false))
                .isInstanceOfSatisfying(InvalidScheduleException.class, e -> assertThat(e.field()).isEqualTo(field));
    }
}
