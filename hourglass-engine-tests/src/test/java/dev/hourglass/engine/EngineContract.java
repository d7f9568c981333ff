package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.api.InvalidJobException;
import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.Scheduling;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.model.TraceParent;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.DeadLetterFilter;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.time.Instants;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.testing.ManualEngine;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine's integration contract, run on every store (a real SQLite file, a real PostgreSQL schema): the engine
 * is the real one, driven by {@link ManualEngine}, so "now" moves only when a test says so and nothing fires but in
 * a step the test calls. Every handler records it if it was ever called before its due time on the wall clock.
 */
abstract class EngineContract {
    static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");

    protected final ManualClock clock = new ManualClock(T0);
    private final List<String> earlyFirings = new CopyOnWriteArrayList<>();
    private final Map<JobId, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final List<ManualEngine> engines = new CopyOnWriteArrayList<>();
    protected JobStore store;

    /** A new, empty store for one test. */
    protected abstract JobStore openStore();

    /** Closes {@code store} and removes what {@link #openStore} made. */
    protected abstract void dispose(JobStore store);

    @BeforeEach
    void openTheStore() {
        store = openStore();
    }

    @AfterEach
    void closeAll() {
        engines.forEach(ManualEngine::close);
        dispose(store);
        assertThat(earlyFirings).as("jobs fired before their due time").isEmpty();
    }

    private EngineConfig config(String node) {
        return EngineConfig.builder(node)
                .defaultBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(8)))
                .shutdownGrace(Duration.ofSeconds(5)).build();
    }

    protected ManualEngine engine(String node, Function<JobContext, Outcome> behaviour) {
        ManualEngine engine = ManualEngine.start(Hourglass.builder()
                .store(store, false)
                .config(config(node))
                .handler("work", ctx -> {
                    if (clock.millis() < ctx.dueAt().toEpochMilli()) {
                        earlyFirings.add(ctx.id() + " at " + clock.instant() + " due " + ctx.dueAt());
                    }
                    runs.computeIfAbsent(ctx.id(), k -> new AtomicInteger()).incrementAndGet();
                    return behaviour.apply(ctx);
                }), clock);
        engines.add(engine);
        return engine;
    }

    protected ManualEngine engine(String node) {
        return engine(node, ctx -> Outcome.succeeded());
    }

    /** Closes an engine before the test ends (a node that stops gracefully). */
    protected void stop(ManualEngine engine) {
        engines.remove(engine);
        engine.close();
    }

    protected static JobRequest work(String text) {
        return JobRequest.of("work", text.getBytes(StandardCharsets.UTF_8));
    }

    protected int runsOf(JobId id) {
        AtomicInteger n = runs.get(id);
        return n == null ? 0 : n.get();
    }

    protected JobState stateOf(JobId id) {
        return store.find(id).map(Job::state).orElseThrow();
    }

    protected NewJob newJob(JobId id, String owner, Instant dueAt) {
        return new NewJob(id, "default", "work", null, "orphan".getBytes(StandardCharsets.UTF_8), dueAt, T0, 5,
                Backoff.DEFAULT, null, null, null, owner, null);
    }

    @Test
    void firesAtTheDueTimeAndNotBefore() {
        ManualEngine engine = engine("a");
        InsertResult result = engine.hourglass().schedule(work("hello"), When.after(Duration.ofSeconds(10)));
        assertThat(result).isInstanceOf(InsertResult.Created.class);
        JobId id = result.job().id();
        assertThat(result.job().dueAt()).isEqualTo(T0.plusSeconds(10));

        engine.advance(Duration.ofMillis(9_999));
        assertThat(engine.runDue()).isZero();
        assertThat(runsOf(id)).isZero();

        engine.advance(Duration.ofMillis(1));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(runsOf(id)).isEqualTo(1);
        Job done = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).isEqualTo(1);
        assertThat(done.owner()).isNull();
    }

    @Test
    void everyAttemptSeesTheTraceContextTheJobWasScheduledWith() {
        TraceParent caller = new TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        List<Optional<TraceParent>> seen = new CopyOnWriteArrayList<>();
        ManualEngine engine = engine("a", ctx -> {
            seen.add(ctx.traceParent());
            return seen.size() == 1 ? Outcome.retry("once more") : Outcome.succeeded();
        });
        JobId traced = engine.hourglass().schedule(work("traced").withTraceParent(caller),
                When.after(Duration.ofMinutes(10))).job().id();

        engine.advance(Duration.ofMinutes(9).plusSeconds(45)); // loaded from the store, not from the insert
        engine.runHorizonRound();
        engine.advance(Duration.ofSeconds(15));
        assertThat(engine.runDue()).isEqualTo(1);
        engine.advance(Duration.ofSeconds(2)); // past the first backoff (1 s)
        engine.runDue();

        assertThat(stateOf(traced)).isEqualTo(JobState.SUCCEEDED);
        assertThat(seen).containsExactly(Optional.of(caller), Optional.of(caller));
        JobId untraced = engine.hourglass().schedule(work("untraced"), When.after(Duration.ZERO)).job().id();
        engine.runDue();
        assertThat(stateOf(untraced)).isEqualTo(JobState.SUCCEEDED);
        assertThat(seen).last().isEqualTo(Optional.empty());
    }

    @Test
    void aDueTimeBetweenMillisecondsIsRoundedUpSoTheJobCannotFireBeforeIt() {
        ManualEngine engine = engine("a");
        Instant between = T0.plusMillis(1_500).plusNanos(400_000); // 1,500.4 ms
        InsertResult result = engine.hourglass().schedule(work("precise"), When.at(between));
        assertThat(result.job().dueAt()).isEqualTo(T0.plusMillis(1_501));
        assertThat(stateOf(result.job().id())).isEqualTo(JobState.SCHEDULED);
        assertThat(store.find(result.job().id()).orElseThrow().dueAt()).isEqualTo(T0.plusMillis(1_501));

        engine.advance(Duration.ofMillis(1_500));
        assertThat(engine.runDue()).as("not at 1,500 ms: that is before 1,500.4 ms").isZero();
        engine.advance(Duration.ofMillis(1));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(stateOf(result.job().id())).isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void jobsBeyondTheHorizonAreLoadedWhenTheyComeNear() {
        ManualEngine engine = engine("a");
        JobId far = engine.hourglass().schedule(work("far"), When.after(Duration.ofMinutes(10))).job().id();
        assertThat(store.find(far).orElseThrow().owner()).as("not claimed at insert").isNull();
        assertThat(engine.hourglass().timerSize()).isZero();

        engine.advance(Duration.ofMinutes(9).plusSeconds(45)); // now within the 30 s horizon
        engine.runHorizonRound();
        assertThat(engine.hourglass().timerSize()).isEqualTo(1);
        assertThat(store.find(far).orElseThrow().owner()).isEqualTo("a");
        assertThat(engine.runDue()).isZero();

        engine.advance(Duration.ofSeconds(15));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(stateOf(far)).isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void sameIdempotencyKeyAndRequestGiveTheSameJobADifferentRequestConflicts() {
        Hourglass engine = engine("a").hourglass();
        JobRequest request = work("x").withIdempotencyKey("order-42");
        When inFiveMinutes = When.after(Duration.ofMinutes(5));
        InsertResult first = engine.schedule(request, inFiveMinutes);
        clock.advance(Duration.ofSeconds(1)); // a retry a second later is still "the same request"
        InsertResult again = engine.schedule(request, inFiveMinutes);
        InsertResult other = engine.schedule(work("y").withIdempotencyKey("order-42"), inFiveMinutes);
        InsertResult otherTenant = engine.schedule(request.withTenant("acme"), inFiveMinutes);

        assertThat(first).isInstanceOf(InsertResult.Created.class);
        assertThat(again).isInstanceOf(InsertResult.Duplicate.class);
        assertThat(again.job().id()).isEqualTo(first.job().id());
        assertThat(other).isInstanceOf(InsertResult.Conflict.class);
        assertThat(other.job().id()).isEqualTo(first.job().id());
        assertThat(otherTenant).isInstanceOf(InsertResult.Created.class);
    }

    @Test
    void scheduleAllStoresEveryJobDurablyInOrderAndEachFiresAtItsTime() {
        ManualEngine engine = engine("a");
        List<Scheduling> batch = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            batch.add(new Scheduling(work("batch-" + i), When.after(Duration.ofSeconds(1 + i % 10))));
        }
        List<InsertResult> results = engine.hourglass().scheduleAll(batch);

        assertThat(results).hasSize(1_000).allMatch(r -> r instanceof InsertResult.Created);
        for (int i = 0; i < 1_000; i++) {
            assertThat(new String(results.get(i).job().payload(), StandardCharsets.UTF_8)).isEqualTo("batch-" + i);
            assertThat(store.find(results.get(i).job().id())).as("stored when scheduleAll returned").isPresent();
            assertThat(results.get(i).job().dueAt()).isEqualTo(T0.plusSeconds(1 + i % 10));
        }
        engine.advance(Duration.ofMillis(999));
        assertThat(engine.runDue()).isZero();
        engine.advance(Duration.ofSeconds(10));
        while (engine.runDue() > 0) {
            // every job is due: run them all
        }
        assertThat(results).allMatch(r -> runsOf(r.job().id()) == 1);
    }

    @Test
    void scheduleAllHonoursIdempotencyKeysJobByJob() {
        Hourglass engine = engine("a").hourglass();
        When later = When.after(Duration.ofMinutes(5));
        List<InsertResult> first = engine.scheduleAll(List.of(
                new Scheduling(work("a").withIdempotencyKey("k-a"), later),
                new Scheduling(work("b").withIdempotencyKey("k-b"), later)));
        List<InsertResult> again = engine.scheduleAll(List.of(
                new Scheduling(work("a").withIdempotencyKey("k-a"), later),
                new Scheduling(work("other").withIdempotencyKey("k-b"), later),
                new Scheduling(work("c").withIdempotencyKey("k-c"), later)));

        assertThat(first).allMatch(r -> r instanceof InsertResult.Created);
        assertThat(again.get(0)).isInstanceOf(InsertResult.Duplicate.class);
        assertThat(again.get(0).job().id()).isEqualTo(first.get(0).job().id());
        assertThat(again.get(1)).isInstanceOf(InsertResult.Conflict.class);
        assertThat(again.get(2)).isInstanceOf(InsertResult.Created.class);
    }

    @Test
    void scheduleAllWithAnInvalidRequestStoresNothingAndNamesItsPosition() {
        Hourglass engine = engine("a").hourglass();
        List<Scheduling> batch = List.of(new Scheduling(work("ok"), When.now()),
                new Scheduling(work("ok too"), When.after(Duration.ofMinutes(1))),
                new Scheduling(JobRequest.of("nope", new byte[0]), When.now()));
        assertThatThrownBy(() -> engine.scheduleAll(batch)).isInstanceOf(InvalidJobException.class)
                .satisfies(e -> assertThat(((InvalidJobException) e).field()).isEqualTo("jobs[2].handler"));
        assertThat(engine.list(new JobQuery(null, null, null, 10)).jobs()).as("nothing stored").isEmpty();
    }

    @Test
    void concurrentDuplicateSubmissionsCreateOneJob() throws Exception {
        Hourglass engine = engine("a").hourglass();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<InsertResult>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                results.add(pool.submit(() -> engine.schedule(work("same").withIdempotencyKey("k"),
                        When.after(Duration.ofMinutes(1)))));
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

    /**
     * Runs what is due until {@code done}, a bounded number of times: on PostgreSQL the store's announcement of a job
     * made claimable (a retry by hand) may let the engine claim it on its own thread while a step runs, and the next
     * step fires it.
     */
    private static void runDueUntil(ManualEngine engine, BooleanSupplier done) {
        for (int i = 0; i < 50 && !done.getAsBoolean(); i++) {
            engine.runDue();
        }
        assertThat(done.getAsBoolean()).as("done after running what is due").isTrue();
    }

    @Test
    void aFailedJobRetriedByHandRunsAgainWithItsAttemptNumbersContinuing() {
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        ManualEngine engine = engine("a", ctx -> {
            attempts.add(ctx.attempt());
            return switch (ctx.attempt()) {
                case 1 -> Outcome.failed("the receiver is gone");
                case 2 -> Outcome.retry("the receiver is warming up");
                default -> Outcome.succeeded();
            };
        });
        JobId id = engine.hourglass().schedule(work("dead letter").withMaxAttempts(3), When.after(Duration.ZERO))
                .job().id();
        engine.runDue();
        Job dead = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(dead.state()).isEqualTo(JobState.FAILED);
        assertThat(dead.attempts()).isEqualTo(1);
        assertThat(engine.hourglass().forTenant("someone-else").retry(id, "someone-else"))
                .isInstanceOf(ChangeResult.NotFound.class);

        engine.advance(Duration.ofMinutes(5));
        ChangeResult retried = engine.hourglass().forTenant("default").retry(id, 2, "ops");

        assertThat(retried).isInstanceOfSatisfying(ChangeResult.Changed.class, changed -> {
            assertThat(changed.job().state()).isEqualTo(JobState.SCHEDULED);
            assertThat(changed.job().dueAt()).isEqualTo(engine.now());
            assertThat(changed.job().attempts()).isEqualTo(1);
            assertThat(changed.job().maxAttempts()).isEqualTo(1 + 2);
            assertThat(changed.job().lastError()).isEqualTo("the receiver is gone");
        });
        runDueUntil(engine, () -> attempts.size() == 2);
        assertThat(stateOf(id)).as("attempt 2 asked for a retry").isEqualTo(JobState.SCHEDULED);
        engine.advance(Duration.ofSeconds(2)); // past the backoff (1 s)
        runDueUntil(engine, () -> stateOf(id) == JobState.SUCCEEDED);

        assertThat(attempts).containsExactly(1, 2, 3);
        Job done = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(done.attempts()).isEqualTo(3);
        assertThat(engine.hourglass().retry(id, "ops")).as("only a FAILED job")
                .isInstanceOf(ChangeResult.WrongState.class);
        assertThat(engine.hourglass().retry(new JobIdGenerator(clock).next()))
                .isInstanceOf(ChangeResult.NotFound.class);
    }

    @Test
    void retryFailedMovesEveryFailedJobOfTheTenantThatTheFilterSelects() {
        ManualEngine engine = engine("a", ctx -> ctx.attempt() == 1 ? Outcome.failed("no") : Outcome.succeeded());
        List<JobId> mine = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            mine.add(engine.hourglass().schedule(work("mine " + i), When.after(Duration.ZERO)).job().id());
        }
        JobId theirs = engine.hourglass().schedule(work("theirs").withTenant("other"), When.after(Duration.ZERO))
                .job().id();
        JobId healthy = engine.hourglass().schedule(work("later"), When.after(Duration.ofHours(1))).job().id();
        engine.runDue();
        assertThat(mine).allSatisfy(id -> assertThat(stateOf(id)).isEqualTo(JobState.FAILED));
        engine.advance(Duration.ofMinutes(1));

        assertThat(engine.hourglass().forTenant("default")
                .retryFailed(new DeadLetterFilter(null, null, engine.now()), "ops"))
                .as("none finished since now").isZero();
        assertThat(engine.hourglass().forTenant("default").retryFailed(DeadLetterFilter.ANY, "ops")).isEqualTo(3);
        assertThat(stateOf(theirs)).isEqualTo(JobState.FAILED);
        assertThat(stateOf(healthy)).isEqualTo(JobState.SCHEDULED);
        runDueUntil(engine, () -> mine.stream().allMatch(id -> stateOf(id) == JobState.SUCCEEDED));
        assertThat(mine).allSatisfy(id -> assertThat(runsOf(id)).isEqualTo(2));
        assertThat(engine.hourglass().retryFailed(DeadLetterFilter.ANY, 1, "admin")).as("every tenant").isEqualTo(1);
        assertThat(stateOf(theirs)).isEqualTo(JobState.SCHEDULED);
        assertThat(store.find(theirs).orElseThrow().maxAttempts()).as("1 used + 1 fresh").isEqualTo(2);
        assertThat(store.find(mine.getFirst()).orElseThrow().maxAttempts())
                .as("1 used + the engine's default").isEqualTo(1 + EngineConfig.DEFAULT_MAX_ATTEMPTS);
    }

    @Test
    void cancelBeforeFireWinsAndTheJobNeverRuns() {
        ManualEngine engine = engine("a");
        JobId id = engine.hourglass().schedule(work("c"), When.after(Duration.ofSeconds(5))).job().id();
        ChangeResult cancelled = engine.hourglass().cancel(id);
        assertThat(cancelled).isInstanceOf(ChangeResult.Changed.class);
        assertThat(((ChangeResult.Changed) cancelled).job().state()).isEqualTo(JobState.CANCELLED);

        engine.advance(Duration.ofSeconds(10));
        assertThat(engine.runDue()).isZero();
        assertThat(runsOf(id)).isZero();
        assertThat(engine.hourglass().cancel(id)).isInstanceOf(ChangeResult.WrongState.class);
        assertThat(engine.hourglass().cancel(new JobIdGenerator(clock).next()))
                .isInstanceOf(ChangeResult.NotFound.class);
    }

    @Test
    void cancelRacingWithFireHasExactlyOneWinnerPerJob() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ManualEngine engine = engine("a", ctx -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.succeeded();
        });
        List<JobId> ids = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ids.add(engine.hourglass().schedule(work("race-" + i), When.after(Duration.ofSeconds(1))).job().id());
        }
        engine.advance(Duration.ofSeconds(1));
        Map<JobId, ChangeResult> cancels = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            // All due: the dispatcher starts them while the pool cancels them.
            for (JobId id : ids) {
                pool.submit(() -> cancels.put(id, engine.hourglass().cancel(id)));
            }
            engine.startDue(); // fewer than all when some cancels were written first
            pool.shutdown();
            assertThat(pool.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        } finally {
            release.countDown();
        }
        engine.awaitIdle();
        int cancelWins = 0;
        for (JobId id : ids) {
            boolean cancelWon = cancels.get(id) instanceof ChangeResult.Changed;
            cancelWins += cancelWon ? 1 : 0;
            assertThat(runsOf(id)).as("runs of " + id).isEqualTo(cancelWon ? 0 : 1);
            assertThat(stateOf(id)).isEqualTo(cancelWon ? JobState.CANCELLED : JobState.SUCCEEDED);
        }
        System.out.printf("cancel/fire race: %d of %d cancels won%n", cancelWins, ids.size());
    }

    @Test
    void failingAttemptsAreRetriedWithBackoffThenTheJobFails() {
        ManualEngine engine = engine("a", ctx -> Outcome.retry("downstream said no"));
        JobId id = engine.hourglass().schedule(work("r").withMaxAttempts(3), When.now()).job().id();

        assertThat(engine.runDue()).isEqualTo(1);
        Job afterFirst = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(afterFirst.state()).isEqualTo(JobState.SCHEDULED);
        assertThat(afterFirst.attempts()).isEqualTo(1);
        assertThat(afterFirst.lastError()).isEqualTo("downstream said no");
        // Backoff after attempt 1: 1 s nominal with jitter in [0.5 s, 1 s].
        assertThat(afterFirst.dueAt()).isBetween(T0.plusMillis(500), T0.plusMillis(1_000));

        engine.advance(Duration.ofMillis(1_000));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(stateOf(id)).isEqualTo(JobState.SCHEDULED);
        engine.advance(Duration.ofMillis(2_000));
        assertThat(engine.runDue()).isEqualTo(1);

        Job failed = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        assertThat(failed.attempts()).isEqualTo(3);
        assertThat(failed.lastError()).contains("downstream said no").contains("attempt 3 of 3");
        engine.advance(Duration.ofMinutes(10));
        assertThat(engine.runDue()).isZero();
        assertThat(runsOf(id)).isEqualTo(3);
    }

    @Test
    void aThrowingHandlerIsRetriedAndDoesNotKillTheWorker() {
        AtomicInteger calls = new AtomicInteger();
        ManualEngine engine = engine("a", ctx -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom");
            }
            return Outcome.succeeded();
        });
        JobId id = engine.hourglass().schedule(work("t"), When.now()).job().id();
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(stateOf(id)).isEqualTo(JobState.SCHEDULED);
        assertThat(engine.hourglass().getStatus(id).orElseThrow().lastError()).contains("boom");
        engine.advance(Duration.ofSeconds(1));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(stateOf(id)).isEqualTo(JobState.SUCCEEDED);
        assertThat(engine.hourglass().getStatus(id).orElseThrow().attempts()).isEqualTo(2);
    }

    @Test
    void handlerOutcomesFailAndCancelAreFinal() {
        ManualEngine engine = engine("a", ctx -> new String(ctx.payload(), StandardCharsets.UTF_8).equals("fail")
                ? Outcome.failed("bad payload") : Outcome.cancelled("not needed"));
        JobId failed = engine.hourglass().schedule(work("fail"), When.now()).job().id();
        JobId cancelled = engine.hourglass().schedule(work("cancel"), When.now()).job().id();
        assertThat(engine.runDue()).isEqualTo(2);
        assertThat(stateOf(failed)).isEqualTo(JobState.FAILED);
        assertThat(stateOf(cancelled)).isEqualTo(JobState.CANCELLED);
        assertThat(engine.hourglass().getStatus(failed).orElseThrow().lastError()).isEqualTo("bad payload");
        assertThat(engine.hourglass().getStatus(failed).orElseThrow().attempts()).isEqualTo(1);
    }

    @Test
    void aTimedOutAttemptIsRetriedWhenTheClockPassesItsTimeout() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        AtomicInteger attempts = new AtomicInteger();
        ManualEngine engine = engine("a", ctx -> {
            if (attempts.incrementAndGet() > 1) {
                return Outcome.succeeded();
            }
            running.countDown();
            try {
                new CountDownLatch(1).await(); // hangs until the watchdog interrupts it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.succeeded();
        });
        JobId id = engine.hourglass().schedule(work("slow").withTimeout(Duration.ofSeconds(2)), When.now()).job().id();
        assertThat(engine.startDue()).isEqualTo(1);
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

        engine.advance(Duration.ofSeconds(2));
        assertThat(engine.runTimeouts()).isEqualTo(1);
        Job timedOut = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(timedOut.state()).isEqualTo(JobState.SCHEDULED);
        assertThat(timedOut.lastError()).isEqualTo("timed out after 2000 ms");

        engine.advance(Duration.ofSeconds(1));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(stateOf(id)).isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void rescheduleMovesTheDueTimeAndTheOldTimerEntryCannotFire() {
        ManualEngine engine = engine("a");
        JobId id = engine.hourglass().schedule(work("m"), When.after(Duration.ofSeconds(5))).job().id();
        ChangeResult moved = engine.hourglass().reschedule(id, When.after(Duration.ofSeconds(20)));
        assertThat(moved).isInstanceOf(ChangeResult.Changed.class);
        assertThat(((ChangeResult.Changed) moved).job().dueAt()).isEqualTo(T0.plusSeconds(20));

        engine.advance(Duration.ofSeconds(10));
        assertThat(engine.runDue()).isZero();
        engine.advance(Duration.ofSeconds(10));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(runsOf(id)).isEqualTo(1);
        assertThat(engine.hourglass().reschedule(id, When.after(Duration.ofSeconds(1))))
                .isInstanceOf(ChangeResult.WrongState.class);
    }

    @Test
    void aTenantScopeSeesAndChangesOnlyItsOwnJobs() {
        Hourglass engine = engine("a").hourglass();
        JobId acme = engine.schedule(work("a").withTenant("acme"), When.after(Duration.ofMinutes(1))).job().id();

        assertThat(engine.forTenant("globex").getStatus(acme)).isEmpty();
        assertThat(engine.forTenant("globex").cancel(acme)).isInstanceOf(ChangeResult.NotFound.class);
        assertThat(engine.forTenant("globex").reschedule(acme, When.after(Duration.ofMinutes(2))))
                .isInstanceOf(ChangeResult.NotFound.class);
        assertThat(store.find(acme).orElseThrow().dueAt()).isEqualTo(T0.plusSeconds(60));

        assertThat(engine.forTenant("acme").getStatus(acme)).isPresent();
        assertThat(engine.forTenant("acme").reschedule(acme, When.at(T0.plusSeconds(90))))
                .isInstanceOf(ChangeResult.Changed.class);
        assertThat(engine.forTenant("acme").cancel(acme)).isInstanceOf(ChangeResult.Changed.class);
    }

    @Test
    void theClaimsOfANodeWhoseLeaseExpiredAreRescuedAndFired() {
        ManualEngine survivor = engine("survivor");
        // A node "dead" claimed two jobs: one waiting in its timer, one running. Then it stopped heartbeating.
        JobIdGenerator ids = new JobIdGenerator(clock);
        NewJob waiting = newJob(ids.next(), "dead", T0.plusSeconds(1));
        NewJob running = newJob(ids.next(), "dead", T0);
        store.write(Durability.FSYNC, tx -> {
            tx.insert(List.of(waiting, running));
            tx.heartbeat(new HeartbeatParams("dead", T0.plusSeconds(10), T0));
            return tx.start(List.of(new StartRun(running.id(), "dead", 0, T0)));
        });

        survivor.advance(Duration.ofSeconds(5)); // both due, but dead's lease is still valid: nobody else may run them
        assertThat(survivor.runDue()).isZero();

        survivor.advance(Duration.ofSeconds(6)); // lease expired at T0+10 s
        survivor.runRescue();
        assertThat(survivor.runDue()).isEqualTo(2);
        assertThat(stateOf(waiting.id())).isEqualTo(JobState.SUCCEEDED);
        assertThat(stateOf(running.id())).isEqualTo(JobState.SUCCEEDED);
        assertThat(store.find(running.id()).orElseThrow().attempts()).as("the lost attempt counts").isEqualTo(2);

        // The dead node's late acknowledgement is refused by the fencing token.
        Boolean lateAck = store.write(Durability.FSYNC, tx -> tx.finish(List.of(new FinishRun(running.id(), "dead", 0,
                JobState.SUCCEEDED, T0, null, null, clock.instant())))).getFirst();
        assertThat(lateAck).isFalse();
    }

    @Test
    void gracefulShutdownHandsBackClaimsSoTheNextNodeFiresThemOnTime() {
        ManualEngine first = engine("first");
        JobId id = first.hourglass().schedule(work("g"), When.after(Duration.ofSeconds(10))).job().id();
        assertThat(store.find(id).orElseThrow().owner()).isEqualTo("first");
        stop(first);
        assertThat(store.find(id).orElseThrow().owner()).as("handed back").isNull();
        assertThatThrownBy(() -> first.hourglass().schedule(work("late"), When.now()))
                .isInstanceOf(IllegalStateException.class);

        ManualEngine second = engine("second");
        second.advance(Duration.ofSeconds(10));
        assertThat(second.runDue()).as("no waiting for the first node's lease").isEqualTo(1);
        assertThat(runsOf(id)).isEqualTo(1);
    }

    @Test
    void invalidRequestsAreRefusedWithTheFieldNamedAndNothingStored() {
        Hourglass engine = engine("a").hourglass();
        assertThatThrownBy(() -> engine.schedule(work("x"), When.after(Duration.ofSeconds(-1))))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("delay");
        assertThatThrownBy(() -> engine.schedule(JobRequest.of("nope", new byte[0]), When.now()))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("handler");
        assertThatThrownBy(() -> engine.schedule(work("x").withMaxAttempts(0), When.now()))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> engine.schedule(JobRequest.of("work", new byte[256 * 1024 + 1]), When.now()))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("payload");
        assertThatThrownBy(() -> engine.schedule(work("x"), When.at(T0.plus(Duration.ofDays(20_000)))))
                .isInstanceOf(InvalidJobException.class).hasMessageContaining("dueAt");
        assertThat(engine.list(new JobQuery(null, null, null, 10)).jobs()).isEmpty();
    }

    /** An instant no store can keep (before 64-bit epoch milliseconds begin). */
    private static final Instant BEYOND_THE_STORE = Instant.parse("-999999999-01-01T00:00:00Z");

    /**
     * Refused by the store ({@link InvalidDataException}) or, should validation learn to refuse it first, by the
     * engine ({@link InvalidJobException}): never stored, never a store failure.
     */
    private static void assertRefused(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfAny(InvalidDataException.class, InvalidJobException.class);
    }

    @Test
    void aTenantStreamingValuesTheStoreRefusesNeverFailsAnotherTenantsWrites() throws Exception {
        Hourglass engine = engine("a").hourglass();
        JobId mallorysJob = engine.schedule(work("m").withTenant("mallory"), When.after(Duration.ofMinutes(5)))
                .job().id();
        JobId victimsJob = engine.schedule(work("v").withTenant("victim"), When.after(Duration.ofMinutes(5)))
                .job().id();
        int rounds = 40;
        int victims = 4;
        ExecutorService pool = Executors.newFixedThreadPool(2 + victims + 1);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int attacker = 0; attacker < 2; attacker++) {
                int a = attacker;
                all.add(pool.submit(() -> {
                    for (int i = 0; i < rounds; i++) {
                        String key = "k\0" + a + "-" + i;
                        assertRefused(() -> engine.schedule(work("x").withTenant("mallory"),
                                When.at(BEYOND_THE_STORE)));
                        assertRefused(() -> engine.schedule(work("x").withTenant("mallory").withIdempotencyKey(key),
                                When.now()));
                        assertRefused(() -> engine.forTenant("mallory").reschedule(mallorysJob,
                                When.at(BEYOND_THE_STORE)));
                        assertRefused(() -> engine.forTenant("mal\0lory").cancel(mallorysJob));
                    }
                    return null;
                }));
            }
            for (int victim = 0; victim < victims; victim++) {
                int v = victim;
                all.add(pool.submit(() -> {
                    for (int i = 0; i < rounds; i++) {
                        InsertResult result = engine.schedule(work("ok").withTenant("victim")
                                .withIdempotencyKey("v" + v + "-" + i), When.after(Duration.ofMinutes(10)));
                        assertThat(result).isInstanceOf(InsertResult.Created.class);
                    }
                    return null;
                }));
            }
            all.add(pool.submit(() -> {
                for (int i = 0; i < rounds; i++) {
                    assertThat(engine.forTenant("victim").reschedule(victimsJob,
                            When.at(T0.plusSeconds(600 + i)))).isInstanceOf(ChangeResult.Changed.class);
                }
                return null;
            }));
            for (Future<?> future : all) {
                future.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        List<Job> victimsJobs = new ArrayList<>();
        for (JobId after = null; ; ) {
            var page = engine.list(new JobQuery("victim", null, after, 1000));
            victimsJobs.addAll(page.jobs());
            if (page.next() == null) {
                break;
            }
            after = page.next();
        }
        assertThat(victimsJobs).hasSize(victims * rounds + 1);
        assertThat(store.find(victimsJob).orElseThrow().dueAt()).isEqualTo(T0.plusSeconds(600 + rounds - 1));
        assertThat(engine.list(new JobQuery("mallory", null, null, 1000)).jobs()).singleElement()
                .satisfies(job -> {
                    assertThat(job.id()).isEqualTo(mallorysJob);
                    assertThat(job.state()).isEqualTo(JobState.SCHEDULED);
                    assertThat(job.dueAt()).isEqualTo(T0.plus(Duration.ofMinutes(5)));
                });
    }

    @Test
    void anOutcomeTheStoreRefusesFailsTheJobSayingWhyAndTheOthersAreRecorded() {
        // 10^16 s: an Instant, but beyond 64-bit epoch milliseconds.
        ManualEngine engine = engine("a", ctx -> new String(ctx.payload(), StandardCharsets.UTF_8).equals("far")
                ? Outcome.retryAfter(Duration.ofSeconds(10_000_000_000_000_000L), "much later")
                : Outcome.succeeded());
        JobId far = engine.hourglass().schedule(work("far"), When.now()).job().id();
        JobId near = engine.hourglass().schedule(work("near"), When.now()).job().id();

        assertThat(engine.runDue()).isEqualTo(2);

        Job refused = store.find(far).orElseThrow();
        assertThat(refused.state()).isEqualTo(JobState.FAILED);
        assertThat(refused.owner()).isNull();
        assertThat(refused.lastError()).startsWith("the store refused the outcome (dueAt: ");
        assertThat(stateOf(near)).isEqualTo(JobState.SUCCEEDED);
        assertThat(runsOf(far)).isEqualTo(1);
    }

    @Test
    void instantsOutsideYears0000To9999AreRefusedOnScheduleAndRescheduleAndNothingIsStored() {
        Hourglass engine = engine("a").hourglass();
        JobId kept = engine.schedule(work("kept"), When.after(Duration.ofSeconds(60))).job().id();
        Instant keptDue = store.find(kept).orElseThrow().dueAt();
        List<Instant> outside = List.of(Instant.MIN, Instant.MAX, Instants.EARLIEST.minusNanos(1),
                Instants.LATEST.plusNanos(1), Instants.LATEST.plusNanos(500_000),
                Instant.parse("-999999999-01-01T00:00:00Z"), Instant.parse("+100000-01-01T00:00:00Z"));
        for (Instant at : outside) {
            assertThatThrownBy(() -> engine.schedule(work("x"), When.at(at))).as(at.toString())
                    .isInstanceOf(InvalidJobException.class).hasMessageContaining("dueAt");
            assertThatThrownBy(() -> engine.schedule(work("x").withIdempotencyKey("k"), When.at(at)))
                    .isInstanceOf(InvalidJobException.class).hasMessageContaining("dueAt");
            assertThatThrownBy(() -> engine.reschedule(kept, When.at(at))).as(at.toString())
                    .isInstanceOf(InvalidJobException.class).hasMessageContaining("dueAt");
        }
        for (Duration delay : List.of(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofDays(3651))) {
            assertThatThrownBy(() -> engine.schedule(work("x"), When.after(delay)))
                    .isInstanceOf(InvalidJobException.class).hasMessageContaining("delay");
            assertThatThrownBy(() -> engine.reschedule(kept, When.after(delay)))
                    .isInstanceOf(InvalidJobException.class).hasMessageContaining("delay");
        }
        assertThat(engine.list(new JobQuery(null, null, null, 10)).jobs()).hasSize(1);
        assertThat(store.find(kept).orElseThrow().dueAt()).isEqualTo(keptDue);

        // The first instant of the range is kept exactly by the store (a past due time: due at once).
        JobId earliest = engine.schedule(work("y"), When.at(Instants.EARLIEST)).job().id();
        assertThat(store.find(earliest).orElseThrow().dueAt()).isEqualTo(Instants.EARLIEST);
        assertThat(engine.reschedule(kept, When.at(Instants.EARLIEST))).isInstanceOf(ChangeResult.Changed.class);
        assertThat(store.find(kept).orElseThrow().dueAt()).isEqualTo(Instants.EARLIEST);
    }

    @Test
    void idempotencyKeysFollowOneRuleOnEveryStore() {
        Hourglass engine = engine("a").hourglass();
        for (String key : List.of("nul\u0000key", "line\nbreak", "\u0001", "del\u007f", "lone\ud800",
                "\udc00low", "ab\udbff")) {
            assertThatThrownBy(() -> engine.schedule(work("x").withIdempotencyKey(key), When.now()))
                    .isInstanceOf(InvalidJobException.class).hasMessageContaining("idempotencyKey");
        }
        assertThat(engine.list(new JobQuery(null, null, null, 10)).jobs()).isEmpty();

        // Text beyond ASCII that every store keeps as given is a key like any other, found again by its repeat.
        String key = "ключ-\uD83D\uDD11 key with spaces";
        InsertResult first = engine.schedule(work("x").withIdempotencyKey(key), When.after(Duration.ofMinutes(1)));
        assertThat(first).isInstanceOf(InsertResult.Created.class);
        InsertResult again = engine.schedule(work("x").withIdempotencyKey(key), When.after(Duration.ofMinutes(1)));
        assertThat(again).isInstanceOf(InsertResult.Duplicate.class);
        assertThat(again.job().id()).isEqualTo(first.job().id());
    }

    @Test
    void aRetryCounterSurvivesARestartOfTheEngine() {
        ManualEngine first = engine("first", ctx -> Outcome.retry("not yet"));
        JobId id = first.hourglass().schedule(work("p").withMaxAttempts(2), When.now()).job().id();
        assertThat(first.runDue()).isEqualTo(1);
        assertThat(store.find(id).orElseThrow().attempts()).isEqualTo(1);
        stop(first);

        ManualEngine second = engine("second", ctx -> Outcome.retry("still not"));
        second.advance(Duration.ofSeconds(2));
        assertThat(second.runDue()).isEqualTo(1);
        assertThat(stateOf(id)).isEqualTo(JobState.FAILED);
        assertThat(store.find(id).orElseThrow().attempts()).isEqualTo(2);
    }
}
