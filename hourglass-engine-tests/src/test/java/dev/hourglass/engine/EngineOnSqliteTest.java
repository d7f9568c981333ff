package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.InvalidJobException;
import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine on a real SQLite file, driven by a manual clock: the engine's threads run for real, but "now" moves only
 * when the test says so. Every handler asserts it was never called before its due time on the wall clock.
 */
class EngineOnSqliteTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");

    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(T0);
    private final List<String> earlyFirings = new CopyOnWriteArrayList<>();
    private final Map<JobId, AtomicInteger> runs = new ConcurrentHashMap<>();
    private SqliteJobStore store;
    private final List<Hourglass> engines = new ArrayList<>();

    @BeforeEach
    void openStore() {
        store = SqliteJobStore.open(dir.resolve("hourglass.db"));
    }

    @AfterEach
    void closeAll() {
        engines.forEach(Hourglass::close);
        store.close();
        assertThat(earlyFirings).as("jobs fired before their due time").isEmpty();
    }

    private EngineConfig config(String node) {
        return EngineConfig.builder(node).loadInterval(Duration.ofMillis(100))
                .defaultBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(8)))
                .shutdownGrace(Duration.ofSeconds(5)).build();
    }

    private Hourglass engine(String node, Function<JobContext, Outcome> behaviour) {
        Hourglass engine = Hourglass.builder()
                .store(store, false)
                .clock(clock, clock)
                .config(config(node))
                .handler("work", ctx -> {
                    if (clock.millis() < ctx.dueAt().toEpochMilli()) {
                        earlyFirings.add(ctx.id() + " at " + clock.instant() + " due " + ctx.dueAt());
                    }
                    runs.computeIfAbsent(ctx.id(), k -> new AtomicInteger()).incrementAndGet();
                    return behaviour.apply(ctx);
                })
                .build();
        engines.add(engine);
        return engine;
    }

    private Hourglass engine(String node) {
        return engine(node, ctx -> Outcome.succeeded());
    }

    private static JobRequest work(String text) {
        return JobRequest.of("work", text.getBytes(StandardCharsets.UTF_8));
    }

    private int runsOf(JobId id) {
        AtomicInteger n = runs.get(id);
        return n == null ? 0 : n.get();
    }

    private void awaitState(Hourglass engine, JobId id, JobState state) {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engine.getStatus(id).map(Job::state).orElse(null) == state);
    }

    /** Lets the engine's threads do a few rounds with the clock standing still. */
    private static void quietPeriod() {
        await().pollDelay(Duration.ofMillis(300)).until(() -> true);
    }

    @Test
    void firesAtTheDueTimeAndNotBefore() {
        Hourglass engine = engine("a");
        InsertResult result = engine.schedule(work("hello"), When.after(Duration.ofSeconds(10)));
        assertThat(result).isInstanceOf(InsertResult.Created.class);
        JobId id = result.job().id();
        assertThat(result.job().dueAt()).isEqualTo(T0.plusSeconds(10));

        clock.advance(Duration.ofMillis(9_999));
        quietPeriod();
        assertThat(runsOf(id)).isZero();

        clock.advance(Duration.ofMillis(1));
        awaitState(engine, id, JobState.SUCCEEDED);
        assertThat(runsOf(id)).isEqualTo(1);
        Job done = engine.getStatus(id).orElseThrow();
        assertThat(done.attempts()).isEqualTo(1);
        assertThat(done.owner()).isNull();
    }

    @Test
    void aDueTimeBetweenMillisecondsIsRoundedUpSoTheJobCannotFireBeforeIt() {
        Hourglass engine = engine("a");
        Instant between = T0.plusMillis(1_500).plusNanos(400_000); // 1,500.4 ms
        InsertResult result = engine.schedule(work("precise"), When.at(between));
        assertThat(result.job().dueAt()).isEqualTo(T0.plusMillis(1_501));
        assertThat(engine.getStatus(result.job().id()).orElseThrow().dueAt()).isEqualTo(T0.plusMillis(1_501));

        clock.advance(Duration.ofMillis(1_500));
        quietPeriod();
        assertThat(runsOf(result.job().id())).as("not at 1,500 ms: that is before 1,500.4 ms").isZero();
        clock.advance(Duration.ofMillis(1));
        awaitState(engine, result.job().id(), JobState.SUCCEEDED);
    }

    @Test
    void jobsBeyondTheHorizonAreLoadedWhenTheyComeNear() {
        Hourglass engine = engine("a");
        JobId far = engine.schedule(work("far"), When.after(Duration.ofMinutes(10))).job().id();
        assertThat(engine.getStatus(far).orElseThrow().owner()).as("not claimed at insert").isNull();
        assertThat(engine.timerSize()).isZero();

        clock.advance(Duration.ofMinutes(9).plusSeconds(45)); // now within the 30 s horizon
        await().atMost(Duration.ofSeconds(5)).until(() -> engine.timerSize() == 1);
        assertThat(runsOf(far)).isZero();

        clock.advance(Duration.ofSeconds(15));
        awaitState(engine, far, JobState.SUCCEEDED);
    }

    @Test
    void sameIdempotencyKeyAndRequestGiveTheSameJobADifferentRequestConflicts() {
        Hourglass engine = engine("a");
        JobRequest request = work("x").withIdempotencyKey("order-42");
        InsertResult first = engine.schedule(request, When.after(Duration.ofMinutes(5)));
        clock.advance(Duration.ofSeconds(1)); // a retry a second later is still "the same request"
        InsertResult again = engine.schedule(request, When.after(Duration.ofMinutes(5)));
        InsertResult other = engine.schedule(work("y").withIdempotencyKey("order-42"), When.after(Duration.ofMinutes(5)));
        InsertResult otherTenant = engine.schedule(request.withTenant("acme"), When.after(Duration.ofMinutes(5)));

        assertThat(first).isInstanceOf(InsertResult.Created.class);
        assertThat(again).isInstanceOf(InsertResult.Duplicate.class);
        assertThat(again.job().id()).isEqualTo(first.job().id());
        assertThat(other).isInstanceOf(InsertResult.Conflict.class);
        assertThat(other.job().id()).isEqualTo(first.job().id());
        assertThat(otherTenant).isInstanceOf(InsertResult.Created.class);
    }

    @Test
    void concurrentDuplicateSubmissionsCreateOneJob() throws Exception {
        Hourglass engine = engine("a");
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<InsertResult>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                results.add(pool.submit(() -> engine.schedule(work("same").withIdempotencyKey("k"), When.after(Duration.ofMinutes(1)))));
            }
            Set<JobId> ids = ConcurrentHashMap.newKeySet();
            int created = 0;
            for (Future<InsertResult> f : results) {
                InsertResult r = f.get();
                ids.add(r.job().id());
                created += r instanceof InsertResult.Created ? 1 : 0;
            }
            assertThat(ids).hasSize(1);
            assertThat(created).isEqualTo(1);
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void cancelBeforeFireWinsAndTheJobNeverRuns() {
        Hourglass engine = engine("a");
        JobId id = engine.schedule(work("c"), When.after(Duration.ofSeconds(5))).job().id();
        ChangeResult cancelled = engine.cancel(id);
        assertThat(cancelled).isInstanceOf(ChangeResult.Changed.class);
        assertThat(((ChangeResult.Changed) cancelled).job().state()).isEqualTo(JobState.CANCELLED);

        clock.advance(Duration.ofSeconds(10));
        quietPeriod();
        assertThat(runsOf(id)).isZero();
        assertThat(engine.cancel(id)).isInstanceOf(ChangeResult.WrongState.class);
        assertThat(engine.cancel(new JobIdGenerator(clock).next())).isInstanceOf(ChangeResult.NotFound.class);
    }

    @Test
    void cancelRacingWithFireHasExactlyOneWinnerPerJob() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Hourglass engine = engine("a", ctx -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.succeeded();
        });
        List<JobId> ids = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ids.add(engine.schedule(work("race-" + i), When.after(Duration.ofSeconds(1))).job().id());
        }
        clock.advance(Duration.ofSeconds(1)); // all due: the timer fires them while we cancel them
        Map<JobId, ChangeResult> cancels = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (JobId id : ids) {
                pool.submit(() -> cancels.put(id, engine.cancel(id)));
            }
            pool.shutdown();
            assertThat(pool.awaitTermination(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        } finally {
            release.countDown();
        }
        for (JobId id : ids) {
            awaitState(engine, id, cancels.get(id) instanceof ChangeResult.Changed
                    ? JobState.CANCELLED : JobState.SUCCEEDED);
        }
        int cancelWins = 0;
        for (JobId id : ids) {
            boolean cancelWon = cancels.get(id) instanceof ChangeResult.Changed;
            cancelWins += cancelWon ? 1 : 0;
            assertThat(runsOf(id)).as("runs of " + id).isEqualTo(cancelWon ? 0 : 1);
            JobState state = engine.getStatus(id).orElseThrow().state();
            assertThat(state).isEqualTo(cancelWon ? JobState.CANCELLED : JobState.SUCCEEDED);
        }
        System.out.printf("cancel/fire race: %d of %d cancels won%n", cancelWins, ids.size());
    }

    @Test
    void failingAttemptsAreRetriedWithBackoffThenTheJobFails() {
        Hourglass engine = engine("a", ctx -> Outcome.retry("downstream said no"));
        JobId id = engine.schedule(work("r").withMaxAttempts(3), When.after(Duration.ZERO)).job().id();

        await().atMost(Duration.ofSeconds(5)).until(() -> runsOf(id) == 1);
        awaitState(engine, id, JobState.SCHEDULED);
        Job afterFirst = engine.getStatus(id).orElseThrow();
        assertThat(afterFirst.attempts()).isEqualTo(1);
        assertThat(afterFirst.lastError()).isEqualTo("downstream said no");
        // Backoff after attempt 1: 1 s nominal with jitter in [0.5 s, 1 s].
        assertThat(afterFirst.dueAt()).isBetween(T0.plusMillis(500), T0.plusMillis(1_000));

        clock.advance(Duration.ofMillis(1_000));
        await().atMost(Duration.ofSeconds(5)).until(() -> runsOf(id) == 2);
        awaitState(engine, id, JobState.SCHEDULED);
        clock.advance(Duration.ofMillis(2_000));
        await().atMost(Duration.ofSeconds(5)).until(() -> runsOf(id) == 3);
        awaitState(engine, id, JobState.FAILED);

        Job failed = engine.getStatus(id).orElseThrow();
        assertThat(failed.attempts()).isEqualTo(3);
        assertThat(failed.lastError()).contains("downstream said no").contains("attempt 3 of 3");
        clock.advance(Duration.ofMinutes(10));
        quietPeriod();
        assertThat(runsOf(id)).isEqualTo(3);
    }

    @Test
    void aThrowingHandlerIsRetriedAndDoesNotKillTheWorker() {
        AtomicInteger calls = new AtomicInteger();
        Hourglass engine = engine("a", ctx -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom");
            }
            return Outcome.succeeded();
        });
        JobId id = engine.schedule(work("t"), When.after(Duration.ZERO)).job().id();
        awaitState(engine, id, JobState.SCHEDULED);
        assertThat(engine.getStatus(id).orElseThrow().lastError()).contains("boom");
        clock.advance(Duration.ofSeconds(1));
        awaitState(engine, id, JobState.SUCCEEDED);
        assertThat(engine.getStatus(id).orElseThrow().attempts()).isEqualTo(2);
    }

    @Test
    void handlerOutcomesFailAndCancelAreFinal() {
        Hourglass engine = engine("a", ctx -> new String(ctx.payload(), StandardCharsets.UTF_8).equals("fail")
                ? Outcome.failed("bad payload") : Outcome.cancelled("not needed"));
        JobId failed = engine.schedule(work("fail"), When.after(Duration.ZERO)).job().id();
        JobId cancelled = engine.schedule(work("cancel"), When.after(Duration.ZERO)).job().id();
        awaitState(engine, failed, JobState.FAILED);
        awaitState(engine, cancelled, JobState.CANCELLED);
        assertThat(engine.getStatus(failed).orElseThrow().lastError()).isEqualTo("bad payload");
        assertThat(engine.getStatus(failed).orElseThrow().attempts()).isEqualTo(1);
    }

    @Test
    void rescheduleMovesTheDueTimeAndTheOldTimerEntryCannotFire() {
        Hourglass engine = engine("a");
        JobId id = engine.schedule(work("m"), When.after(Duration.ofSeconds(5))).job().id();
        ChangeResult moved = engine.reschedule(id, When.after(Duration.ofSeconds(20)));
        assertThat(moved).isInstanceOf(ChangeResult.Changed.class);
        assertThat(((ChangeResult.Changed) moved).job().dueAt()).isEqualTo(T0.plusSeconds(20));

        clock.advance(Duration.ofSeconds(10));
        quietPeriod();
        assertThat(runsOf(id)).isZero();
        clock.advance(Duration.ofSeconds(10));
        awaitState(engine, id, JobState.SUCCEEDED);
        assertThat(runsOf(id)).isEqualTo(1);
        assertThat(engine.reschedule(id, When.after(Duration.ofSeconds(1)))).isInstanceOf(ChangeResult.WrongState.class);
    }

    @Test
    void theClaimsOfANodeWhoseLeaseExpiredAreRescuedAndFired() {
        Hourglass survivor = engine("survivor");
        // A node "dead" claimed two jobs: one waiting in its timer, one running. Then it stopped heartbeating.
        JobIdGenerator ids = new JobIdGenerator(clock);
        NewJob waiting = newJob(ids.next(), "dead", T0.plusSeconds(1));
        NewJob running = newJob(ids.next(), "dead", T0);
        store.write(Durability.FSYNC, tx -> {
            tx.insert(List.of(waiting, running));
            tx.heartbeat(new HeartbeatParams("dead", T0.plusSeconds(10), T0));
            return tx.start(List.of(new StartRun(running.id(), "dead", 0, T0)));
        });

        clock.advance(Duration.ofSeconds(5)); // both due, but dead's lease is still valid: nobody else may run them
        quietPeriod();
        assertThat(runsOf(waiting.id())).isZero();
        assertThat(runsOf(running.id())).isZero();

        clock.advance(Duration.ofSeconds(6)); // lease expired at T0+10 s
        awaitState(survivor, waiting.id(), JobState.SUCCEEDED);
        awaitState(survivor, running.id(), JobState.SUCCEEDED);
        assertThat(survivor.getStatus(running.id()).orElseThrow().attempts()).as("the lost attempt counts").isEqualTo(2);

        // The dead node's late acknowledgement is refused by the fencing token.
        Boolean lateAck = store.write(Durability.FSYNC, tx -> tx.finish(List.of(new dev.hourglass.core.store.FinishRun(
                running.id(), "dead", 0, JobState.SUCCEEDED, T0, null, null, clock.instant())))).getFirst();
        assertThat(lateAck).isFalse();
    }

    @Test
    void aRestartOnTheExclusiveStoreTakesOverLeftoverClaimsAtOnce() {
        JobIdGenerator ids = new JobIdGenerator(clock);
        NewJob orphan = newJob(ids.next(), "crashed-node", T0);
        store.write(Durability.FSYNC, tx -> {
            tx.insert(List.of(orphan));
            tx.heartbeat(new HeartbeatParams("crashed-node", T0.plusSeconds(60), T0));
            return null;
        });
        Hourglass restarted = engine("restarted");
        awaitState(restarted, orphan.id(), JobState.SUCCEEDED); // no waiting for the 60 s lease
    }

    @Test
    void gracefulShutdownHandsBackClaimsSoTheNextNodeFiresThemOnTime() {
        Hourglass first = engine("first");
        JobId id = first.schedule(work("g"), When.after(Duration.ofSeconds(10))).job().id();
        assertThat(first.getStatus(id).orElseThrow().owner()).isEqualTo("first");
        first.close();
        engines.remove(first);
        assertThat(store.find(id).orElseThrow().owner()).as("handed back").isNull();
        assertThatThrownBy(() -> first.schedule(work("late"), When.after(Duration.ZERO))).isInstanceOf(IllegalStateException.class);

        Hourglass second = engine("second");
        clock.advance(Duration.ofSeconds(10));
        awaitState(second, id, JobState.SUCCEEDED);
        assertThat(runsOf(id)).isEqualTo(1);
    }

    @Test
    void invalidRequestsAreRefusedWithTheFieldNamedAndNothingStored() {
        Hourglass engine = engine("a");
        assertThatThrownBy(() -> engine.schedule(work("x"), When.after(Duration.ofSeconds(-1))))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("delay");
        assertThatThrownBy(() -> engine.schedule(JobRequest.of("nope", new byte[0]), When.after(Duration.ZERO)))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("handler");
        assertThatThrownBy(() -> engine.schedule(work("x").withMaxAttempts(0), When.after(Duration.ZERO)))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> engine.schedule(JobRequest.of("work", new byte[256 * 1024 + 1]), When.after(Duration.ZERO)))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("payload");
        assertThatThrownBy(() -> engine.schedule(work("x"), When.at(T0.plus(Duration.ofDays(20_000)))))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("dueAt");
        assertThat(engine.list(new dev.hourglass.core.store.JobQuery(null, null, null, 10)).jobs()).isEmpty();
    }

    @Test
    void aRetryCounterSurvivesARestartOfTheEngine() {
        Hourglass first = engine("first", ctx -> Outcome.retry("not yet"));
        JobId id = first.schedule(work("p").withMaxAttempts(2), When.after(Duration.ZERO)).job().id();
        awaitState(first, id, JobState.SCHEDULED);
        await().until(() -> first.getStatus(id).orElseThrow().attempts() == 1);
        first.close();
        engines.remove(first);

        Hourglass second = engine("second", ctx -> Outcome.retry("still not"));
        clock.advance(Duration.ofSeconds(2));
        awaitState(second, id, JobState.FAILED);
        assertThat(second.getStatus(id).orElseThrow().attempts()).isEqualTo(2);
    }

    private NewJob newJob(JobId id, String owner, Instant dueAt) {
        return new NewJob(id, "default", "work", null, "orphan".getBytes(StandardCharsets.UTF_8), dueAt, T0, 5,
                Backoff.DEFAULT, null, null, null, owner);
    }
}
