package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.engine.JobLogContext;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The engine when its store fails, as a database outage makes it fail: unreachable (every call throws), a lost
 * answer (the commit happened but the caller hears an error), a hung write, a store bug that throws an Error. The
 * store is a real SQLite file behind a wrapper that injects the failure; time is a manual clock. What must hold:
 * nothing is acknowledged that is not stored, firing pauses while the store fails and resumes by itself, no claimed
 * job is orphaned, and no job runs twice for these failures.
 */
class EngineOnAFailingStoreTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
    private static final String NODE = "a";

    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(T0);
    private final List<String> earlyFirings = new CopyOnWriteArrayList<>();
    private final Map<JobId, AtomicInteger> runs = new ConcurrentHashMap<>();
    private SqliteJobStore sqlite;
    private FailingStore failing;
    private Hourglass engine;
    /** Set by a test to hold attempts until it counts down. */
    private volatile CountDownLatch handlerGate = new CountDownLatch(0);

    @BeforeEach
    void start() {
        sqlite = SqliteJobStore.open(dir.resolve("hourglass.db"));
        failing = new FailingStore(sqlite);
        EngineConfig config = EngineConfig.builder(NODE).loadInterval(Duration.ofMillis(100))
                .defaultBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(8)))
                .shutdownGrace(Duration.ofSeconds(2)).build();
        engine = Hourglass.builder()
                .store(failing.proxy(), false)
                .clock(clock, clock)
                .config(config)
                .handler("work", ctx -> {
                    if (clock.millis() < ctx.dueAt().toEpochMilli()) {
                        earlyFirings.add(ctx.id() + " at " + clock.instant() + " due " + ctx.dueAt());
                    }
                    runs.computeIfAbsent(ctx.id(), k -> new AtomicInteger()).incrementAndGet();
                    handlerGate.await();
                    return Outcome.succeeded();
                })
                .build();
    }

    @AfterEach
    void stop() {
        failing.heal();
        engine.close();
        sqlite.close();
        assertThat(earlyFirings).as("jobs fired before their due time").isEmpty();
    }

    @Test
    void firingPausesWhileTheStoreIsUnreachableAndResumesByItself() {
        JobId id = engine.schedule(work("paused"), When.after(Duration.ofSeconds(1))).job().id();

        failing.down = true;
        clock.advance(Duration.ofSeconds(1));
        quietPeriod();
        assertThat(runsOf(id)).as("no attempt without a start in the store").isZero();
        assertThat(engine.storeReachable()).isFalse();
        assertThat(stored(id).state()).isEqualTo(JobState.SCHEDULED);
        assertThat(stored(id).owner()).as("still claimed by this node, which heartbeats on").isEqualTo(NODE);

        failing.down = false;
        awaitState(id, JobState.SUCCEEDED);
        assertThat(runsOf(id)).isEqualTo(1);
        assertThat(engine.storeReachable()).isTrue();
    }

    @Test
    void aScheduleWhileTheStoreIsUnreachableFailsAndStoresNothing() {
        failing.down = true;
        assertThatThrownBy(() -> engine.schedule(work("refused"), When.after(Duration.ofSeconds(1))))
                .isInstanceOf(StoreUnavailableException.class);
        failing.down = false;
        assertThat(sqlite.list(new JobQuery(null, null, null, 10)).jobs()).isEmpty();
        assertThat(engine.schedule(work("after"), When.after(Duration.ZERO))).isInstanceOf(InsertResult.Created.class);
    }

    @Test
    void anInsertWhoseAnswerWasLostStillFiresAtItsDueTime() {
        failing.loseAnswerOf.set("insert");
        assertThatThrownBy(() -> engine.schedule(work("lost answer"), When.after(Duration.ofSeconds(2))))
                .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
        List<Job> stored = sqlite.list(new JobQuery(null, null, null, 10)).jobs();
        assertThat(stored).as("committed although the caller heard an error").hasSize(1);
        JobId id = stored.getFirst().id();
        assertThat(stored.getFirst().owner()).isEqualTo(NODE);

        quietPeriod(); // the reconciler puts it in the timer
        clock.advance(Duration.ofSeconds(2));
        awaitState(id, JobState.SUCCEEDED);
        assertThat(runsOf(id)).isEqualTo(1);
    }

    @Test
    void aStartWhoseAnswerWasLostIsRunNotOrphaned() {
        JobId id = engine.schedule(work("started"), When.after(Duration.ofSeconds(1))).job().id();
        failing.loseAnswerOf.set("start");

        clock.advance(Duration.ofSeconds(1));
        awaitState(id, JobState.SUCCEEDED);
        assertThat(failing.answersLost.get()).isEqualTo(1);
        assertThat(runsOf(id)).isEqualTo(1);
        assertThat(stored(id).attempts()).as("the attempt the lost start counted, and no other").isEqualTo(1);
    }

    /**
     * A horizon claim whose answer was lost names no job, yet its jobs are claimed by this node in the store: the
     * claim sweep reads them back and they fire at their due time, never before, once each.
     */
    @Test
    void jobsOfAClaimRoundWhoseAnswerWasLostStillFireAtTheirDueTimeOnce() {
        // Due beyond the horizon (30 s): stored unowned, for a later round to claim.
        List<JobId> ids = List.of(
                engine.schedule(work("c1"), When.after(Duration.ofSeconds(40))).job().id(),
                engine.schedule(work("c2"), When.after(Duration.ofSeconds(41))).job().id(),
                engine.schedule(work("c3"), When.after(Duration.ofSeconds(45))).job().id());
        assertThat(ids).allSatisfy(id -> assertThat(stored(id).owner()).isNull());
        failing.loseAnswerOf.set("claimDue");

        clock.advance(Duration.ofSeconds(15)); // all three are within the horizon now
        await().atMost(Duration.ofSeconds(5)).until(() -> failing.answersLost.get() == 1);
        assertThat(ids).as("claimed by this node, though it heard an error").allSatisfy(id -> {
            assertThat(stored(id).owner()).isEqualTo(NODE);
            assertThat(stored(id).state()).isEqualTo(JobState.SCHEDULED);
        });

        quietPeriod();
        clock.advance(Duration.ofMillis(24_999)); // 1 ms before the first is due
        quietPeriod();
        assertThat(runs).as("nothing fires before its due time").isEmpty();

        clock.advance(Duration.ofMillis(1));
        awaitState(ids.get(0), JobState.SUCCEEDED);
        assertThat(stored(ids.get(1)).state()).isEqualTo(JobState.SCHEDULED);
        clock.advance(Duration.ofSeconds(1));
        awaitState(ids.get(1), JobState.SUCCEEDED);
        clock.advance(Duration.ofSeconds(4));
        awaitState(ids.get(2), JobState.SUCCEEDED);
        quietPeriod();
        assertThat(ids).allSatisfy(id -> assertThat(runsOf(id)).as("runs of " + id).isEqualTo(1));
    }

    /**
     * The connection breaks during a claim's commit and the store stays unreachable, past the grace in which a late
     * commit could land: the sweep fails round after round and nothing is forgotten; once the store answers, the
     * claimed jobs fire (late, as the outage made them), once each.
     */
    @Test
    void aClaimSweepDuringAContinuedOutageRetriesAndStillRecovers() {
        List<JobId> ids = List.of(
                engine.schedule(work("o1"), When.after(Duration.ofSeconds(40))).job().id(),
                engine.schedule(work("o2"), When.after(Duration.ofSeconds(42))).job().id());
        failing.downAfterLosingAnAnswer = true;
        failing.loseAnswerOf.set("claimDue");

        clock.advance(Duration.ofSeconds(15));
        await().atMost(Duration.ofSeconds(5)).until(() -> failing.answersLost.get() == 1);
        assertThat(failing.down).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> failing.refused("claimsOf") >= 2);
        assertThat(ids).allSatisfy(id -> assertThat(stored(id).owner()).isEqualTo(NODE));

        clock.advance(Duration.ofSeconds(70)); // past the jobs' due times and the 60 s grace, still down
        await().atMost(Duration.ofSeconds(5)).until(() -> failing.refused("claimsOf") >= 4);
        assertThat(runs).isEmpty();

        failing.down = false;
        ids.forEach(id -> awaitState(id, JobState.SUCCEEDED));
        quietPeriod();
        assertThat(ids).allSatisfy(id -> assertThat(runsOf(id)).as("runs of " + id).isEqualTo(1));
    }

    @Test
    void anOutcomeThatCannotBeWrittenIsWrittenAgainAndTheJobDoesNotRunTwice() {
        Logger dispatcherLog = (Logger) LoggerFactory.getLogger("dev.hourglass.core.engine.Dispatcher");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        dispatcherLog.addAppender(lines);
        handlerGate = new CountDownLatch(1);
        JobId id = engine.schedule(work("finish later"), When.after(Duration.ZERO)).job().id();
        await().atMost(Duration.ofSeconds(5)).until(() -> runsOf(id) == 1);

        failing.down = true;
        handlerGate.countDown(); // the attempt succeeds, but its outcome cannot be written
        await().pollDelay(Duration.ofMillis(800)).until(() -> true);
        assertThat(stored(id).state()).isEqualTo(JobState.RUNNING);
        assertThat(engine.inFlight()).as("the attempt keeps its permit until its outcome is stored").isEqualTo(1);

        failing.down = false;
        assertThat(stored(id).state()).as("the write is tried again after its backoff, on the engine's clock")
                .isEqualTo(JobState.RUNNING);
        clock.advance(Duration.ofSeconds(2)); // the longest backoff of an outcome write
        awaitState(id, JobState.SUCCEEDED);
        assertThat(runsOf(id)).isEqualTo(1);
        assertThat(engine.inFlight()).isZero();
        dispatcherLog.detachAppender(lines);
        Map<String, String> fields = Map.of(JobLogContext.JOB_ID, id.toString(), JobLogContext.TENANT,
                stored(id).tenant(), JobLogContext.ATTEMPT, "1");
        assertThat(lines.list).as("the lines about the outcome's writes, from the committer's thread, carry the job's "
                + "fields").filteredOn(e -> e.getFormattedMessage().startsWith("could not record the outcome of job")
                        || e.getFormattedMessage().startsWith("recorded the outcome of job"))
                .hasSize(2).allSatisfy(e -> assertThat(e.getMDCPropertyMap()).isEqualTo(fields));
    }

    @Test
    void aStartWhoseCommitLandsAfterTheReconcilerLookedIsStillRun() {
        // The start's answer is lost and its COMMIT is held up in the network: the reconciler's first look finds the
        // job SCHEDULED and puts it back in the timer; the held-up COMMIT lands just before the timer's own start
        // of the same claim, which therefore loses the compare-and-set. The job is then RUNNING on this node under
        // the token of a start this node never confirmed, with no attempt running: it must still be run, once.
        JobId id = engine.schedule(work("late commit"), When.after(Duration.ofSeconds(1))).job().id();
        failing.holdUpNextStart = true;

        clock.advance(Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(5)).until(() -> failing.startsLandedLate.get() == 1);
        awaitState(id, JobState.SUCCEEDED);
        assertThat(runsOf(id)).as("run once, by the attempt the late start counted").isEqualTo(1);
        assertThat(stored(id).attempts()).isEqualTo(1);
        assertThat(engine.inFlight()).isZero();
    }

    @Test
    void aWithdrawnWriteIsLeftOutIfItsTransactionHasNotStarted() throws Exception {
        failing.hang = new CountDownLatch(1);
        CompletableFuture<InsertResult> pending = engine.scheduleAsync(work("withdrawn"),
                When.after(Duration.ofSeconds(1)));
        assertThatThrownBy(() -> pending.get(300, TimeUnit.MILLISECONDS))
                .isInstanceOf(TimeoutException.class);
        pending.cancel(false); // the caller gives up, as the HTTP API does after its store timeout

        failing.hang.countDown();
        quietPeriod();
        assertThat(sqlite.list(new JobQuery(null, null, null, 10)).jobs()).as("nothing stored").isEmpty();
        assertThat(engine.schedule(work("next"), When.after(Duration.ZERO))).isInstanceOf(InsertResult.Created.class);
    }

    @Test
    void aStoreThatThrowsAnErrorFailsOnlyThatWriteAndTheEngineReportsIt() throws Exception {
        AssertionError bug = new AssertionError("a bug in the store (simulated)");
        failing.errorOnInsert = bug;
        CompletableFuture<InsertResult> failed = engine.scheduleAsync(work("bug"), When.after(Duration.ZERO));
        assertThatThrownBy(() -> failed.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(StoreException.class);
        // An Error is never survived silently: the engine has failed and says so (it stops firing; see
        // EngineThreadDeathOnSqliteTest), but the writer stays up, so callers are still answered truthfully.
        assertThat(engine.failure()).hasValueSatisfying(failure -> {
            assertThat(failure.thread()).isEqualTo("hourglass-committer");
            assertThat(failure.error()).isSameAs(bug);
        });

        failing.errorOnInsert = null;
        InsertResult next = engine.scheduleAsync(work("next"), When.after(Duration.ZERO)).get(5, TimeUnit.SECONDS);
        assertThat(stored(next.job().id()).state()).isEqualTo(JobState.SCHEDULED);
        assertThat(sqlite.list(new JobQuery(null, null, null, 10)).jobs()).hasSize(1);
    }

    // ---------------------------------------------------------------------------------------------------------

    private static JobRequest work(String text) {
        return JobRequest.of("work", text.getBytes(StandardCharsets.UTF_8));
    }

    private int runsOf(JobId id) {
        AtomicInteger n = runs.get(id);
        return n == null ? 0 : n.get();
    }

    /** The job as stored, read past the failing wrapper. */
    private Job stored(JobId id) {
        return sqlite.find(id).orElseThrow();
    }

    private void awaitState(JobId id, JobState state) {
        await().atMost(Duration.ofSeconds(10)).until(() -> sqlite.find(id).map(Job::state).orElse(null) == state);
    }

    /** Lets the engine's threads do a few rounds (load interval 100 ms) with the clock standing still. */
    private static void quietPeriod() {
        await().pollDelay(Duration.ofMillis(400)).until(() -> true);
    }

    /**
     * A store that fails on demand, in front of a real one. A dynamic proxy, so that it follows the SPI as it grows.
     * <ul>
     *   <li>{@code down}: every call throws {@link StoreUnavailableException} and nothing is applied;</li>
     *   <li>{@code loseAnswerOf}: the next write whose transaction calls that {@link StoreTx} method (a claim: one
     *       that claimed something) is committed, then reported as failed with an unknown outcome;</li>
     *   <li>{@code downAfterLosingAnAnswer}: a lost answer also sets {@code down}, as a connection that breaks
     *       during a commit and stays broken;</li>
     *   <li>{@code hang}: writes wait for the latch before doing anything;</li>
     *   <li>{@code errorOnInsert}: every transaction that inserts throws this Error.</li>
     * </ul>
     */
    private static final class FailingStore implements InvocationHandler {
        private static final Set<String> READS = Set.of("find", "list", "lastJobId", "claimsOf");

        private final JobStore delegate;
        volatile boolean down;
        final AtomicReference<String> loseAnswerOf = new AtomicReference<>();
        final AtomicInteger answersLost = new AtomicInteger();
        volatile boolean downAfterLosingAnAnswer;
        /**
         * The next write that starts jobs is rolled back and its caller hears "outcome unknown"; its starts land
         * later, at the beginning of the next write that starts one of the same jobs, as a COMMIT held up in the
         * network would land after the client gave up on it.
         */
        volatile boolean holdUpNextStart;
        final AtomicInteger startsLandedLate = new AtomicInteger();
        private final AtomicReference<List<StartRun>> heldUpStarts = new AtomicReference<>();
        /** Reads refused while down, by method name. */
        private final Map<String, AtomicInteger> refusedReads = new ConcurrentHashMap<>();
        volatile CountDownLatch hang;
        volatile Error errorOnInsert;

        FailingStore(JobStore delegate) {
            this.delegate = delegate;
        }

        int refused(String read) {
            AtomicInteger n = refusedReads.get(read);
            return n == null ? 0 : n.get();
        }

        JobStore proxy() {
            return (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(), new Class<?>[] {JobStore.class},
                    this);
        }

        void heal() {
            down = false;
            loseAnswerOf.set(null);
            errorOnInsert = null;
            CountDownLatch h = hang;
            if (h != null) {
                h.countDown();
            }
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (name.equals("write")) {
                return write(args);
            }
            if (down && READS.contains(name)) {
                refusedReads.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
                throw unreachable();
            }
            return call(delegate, method, args);
        }

        @SuppressWarnings("unchecked")
        private Object write(Object[] args) throws Throwable {
            CountDownLatch h = hang;
            if (h != null) {
                h.await();
            }
            if (down) {
                throw unreachable();
            }
            Function<StoreTx, Object> work = (Function<StoreTx, Object>) args[1];
            Set<String> called = ConcurrentHashMap.newKeySet();
            Object result;
            try {
                result = delegate.write((Durability) args[0], tx -> work.apply(observed(tx, called)));
            } catch (HeldUp e) {
                answersLost.incrementAndGet();
                throw new StoreUnavailableException("connection lost during commit (simulated, held up)", null, true);
            }
            String lose = loseAnswerOf.get();
            if (lose != null && called.contains(lose) && loseAnswerOf.compareAndSet(lose, null)) {
                answersLost.incrementAndGet();
                if (downAfterLosingAnAnswer) {
                    down = true;
                }
                throw new StoreUnavailableException("connection lost during commit (simulated)", null, true);
            }
            return result;
        }

        private StoreTx observed(StoreTx tx, Set<String> called) {
            return (StoreTx) Proxy.newProxyInstance(StoreTx.class.getClassLoader(), new Class<?>[] {StoreTx.class},
                    (p, method, args) -> {
                        if (method.getName().equals("start")) {
                            @SuppressWarnings("unchecked")
                            List<StartRun> runs = (List<StartRun>) args[0];
                            if (holdUpNextStart) {
                                holdUpNextStart = false;
                                heldUpStarts.set(List.copyOf(runs));
                                throw new HeldUp(); // rolls this transaction back
                            }
                            List<StartRun> held = heldUpStarts.get();
                            if (held != null && runs.stream().anyMatch(r -> held.stream()
                                    .anyMatch(h -> h.id().equals(r.id())))
                                    && heldUpStarts.compareAndSet(held, null)) {
                                tx.start(held); // the held-up COMMIT lands first
                                startsLandedLate.incrementAndGet();
                            }
                        }
                        Error error = errorOnInsert;
                        if (error != null && method.getName().equals("insert")) {
                            throw error;
                        }
                        Object result = call(tx, method, args);
                        // A claim that found nothing does not count: the answer to lose is that of the round that
                        // claims the test's jobs, not of a round that read the clock before the test moved it.
                        if (!(method.getName().equals("claimDue") && result instanceof List<?> claimed
                                && claimed.isEmpty())) {
                            called.add(method.getName());
                        }
                        return result;
                    });
        }

        private static Object call(Object target, Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        /** Rolls back the transaction of a start that is held up (see {@code holdUpNextStart}). */
        private static final class HeldUp extends RuntimeException {
            HeldUp() {
                super(null, null, false, false);
            }
        }

        private static StoreUnavailableException unreachable() {
            return new StoreUnavailableException("no connection (simulated outage)", null, false);
        }
    }
}
