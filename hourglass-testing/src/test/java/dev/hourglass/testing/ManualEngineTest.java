package dev.hourglass.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manual driver on a real SQLite file: every step is exact, and no test sleeps. */
class ManualEngineTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private SqliteJobStore store;
    private final List<ManualEngine> engines = new CopyOnWriteArrayList<>();
    /** What the handler saw: the job's id, attempt and the engine's clock at the call. */
    private final List<String> calls = new CopyOnWriteArrayList<>();

    @BeforeEach
    void openStore() {
        store = SqliteJobStore.open(dir.resolve("test.db"));
    }

    @AfterEach
    void closeAll() {
        engines.forEach(ManualEngine::close);
        store.close();
    }

    private ManualEngine engine(String node, Function<JobContext, Outcome> handler) {
        ManualEngine engine = ManualEngine.start(Hourglass.builder()
                .store(store, false)
                .config(EngineConfig.builder(node).build())
                .handler("work", ctx -> {
                    calls.add(ctx.id() + "#" + ctx.attempt());
                    return handler.apply(ctx);
                }), T0);
        engines.add(engine);
        return engine;
    }

    private static JobRequest work() {
        return JobRequest.of("work", new byte[0]);
    }

    private static JobState state(ManualEngine engine, JobId id) {
        return engine.hourglass().getStatus(id).map(Job::state).orElseThrow();
    }

    @Test
    void aJobRunsWhenTheClockReachesItsDueTimeAndNotAMillisecondBefore() {
        ManualEngine engine = engine("a", ctx -> Outcome.succeeded());
        JobId id = engine.hourglass().schedule(work(), When.after(Duration.ofHours(24))).job().id();

        engine.advance(Duration.ofHours(24).minusMillis(1));
        assertThat(engine.runDue()).as("one millisecond early").isZero();
        assertThat(state(engine, id)).isEqualTo(JobState.SCHEDULED);

        engine.advance(Duration.ofMillis(1));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(state(engine, id)).as("the outcome is stored when runDue returns").isEqualTo(JobState.SUCCEEDED);
        assertThat(calls).containsExactly(id + "#1");
        assertThat(engine.runDue()).as("nothing twice").isZero();
    }

    @Test
    void theTimeDrivenLoopsHaveNoThreadsSoNothingRunsWithoutAStep() {
        ManualEngine engine = engine("a", ctx -> Outcome.succeeded());
        JobId id = engine.hourglass().schedule(work(), When.now()).job().id();
        engine.advance(Duration.ofMinutes(5));

        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .doesNotContain("hourglass-timer", "hourglass-delays");
        assertThat(calls).isEmpty();
        assertThat(state(engine, id)).isEqualTo(JobState.SCHEDULED);
        assertThat(engine.runDue()).isEqualTo(1);
    }

    @Test
    void aRetryRunsWhenTheClockReachesItsBackoffAndTheAttemptsAreCounted() {
        AtomicInteger attempts = new AtomicInteger();
        ManualEngine engine = engine("a", ctx -> attempts.incrementAndGet() == 1
                ? Outcome.retryAfter(Duration.ofSeconds(10), "receiver busy")
                : Outcome.succeeded());
        JobId id = engine.hourglass().schedule(work(), When.after(Duration.ofSeconds(1))).job().id();

        engine.advance(Duration.ofSeconds(1));
        assertThat(engine.runDue()).isEqualTo(1);
        Job afterFirst = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(afterFirst.state()).isEqualTo(JobState.SCHEDULED);
        assertThat(afterFirst.attempts()).isEqualTo(1);
        assertThat(afterFirst.lastError()).isEqualTo("receiver busy");
        assertThat(afterFirst.dueAt()).isEqualTo(T0.plusSeconds(11));

        engine.advance(Duration.ofSeconds(9).plusMillis(999));
        assertThat(engine.runDue()).isZero();
        engine.advance(Duration.ofMillis(1));
        assertThat(engine.runDue()).isEqualTo(1);
        assertThat(state(engine, id)).isEqualTo(JobState.SUCCEEDED);
        assertThat(calls).containsExactly(id + "#1", id + "#2");
    }

    @Test
    void aRetryDueAtOnceRunsInTheSameStepUntilTheAttemptsAreExhausted() {
        ManualEngine engine = engine("a", ctx -> Outcome.retryAfter(Duration.ZERO, "again"));
        JobId id = engine.hourglass().schedule(work().withMaxAttempts(3), When.now()).job().id();

        assertThat(engine.runDue()).isEqualTo(3);
        Job failed = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        assertThat(failed.attempts()).isEqualTo(3);
    }

    @Test
    void aHandlerPastItsTimeoutIsInterruptedWhenTheClockPassesIt() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        ManualEngine engine = engine("a", ctx -> {
            running.countDown();
            try {
                new CountDownLatch(1).await(); // hangs until interrupted
                return Outcome.succeeded();
            } catch (InterruptedException e) {
                return Outcome.succeeded(); // the watchdog's outcome wins; this one is discarded
            }
        });
        JobId id = engine.hourglass().schedule(work().withTimeout(Duration.ofSeconds(5)).withMaxAttempts(1),
                When.now()).job().id();

        assertThat(engine.startDue()).isEqualTo(1);
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        engine.advance(Duration.ofSeconds(5).minusMillis(1));
        assertThat(engine.runTimeouts()).as("not yet").isZero();
        assertThat(state(engine, id)).isEqualTo(JobState.RUNNING);

        engine.advance(Duration.ofMillis(1));
        assertThat(engine.runTimeouts()).isEqualTo(1);
        Job timedOut = engine.hourglass().getStatus(id).orElseThrow();
        assertThat(timedOut.state()).isEqualTo(JobState.FAILED);
        assertThat(timedOut.lastError()).contains("timed out after 5000 ms");
    }

    @Test
    void theClaimsOfANodeThatStoppedRenewingAreRescuedOnceItsLeaseRunsOut() {
        ManualEngine survivor = engine("b", ctx -> Outcome.succeeded());
        ManualEngine crashed = engine("a", ctx -> Outcome.succeeded());
        JobId id = crashed.hourglass().schedule(work(), When.after(Duration.ofSeconds(5))).job().id();
        assertThat(crashed.hourglass().getStatus(id).orElseThrow().owner()).as("claimed at insert").isEqualTo("a");

        // Node a is never stepped again: its lease (10 s, renewed at its start) runs out on b's clock.
        survivor.advance(Duration.ofSeconds(10));
        survivor.runRescue();
        assertThat(survivor.hourglass().getStatus(id).orElseThrow().owner()).as("lease_until is inclusive")
                .isEqualTo("a");

        survivor.advance(Duration.ofMillis(1));
        assertThat(survivor.runDue()).isEqualTo(1);
        Job done = survivor.hourglass().getStatus(id).orElseThrow();
        assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(calls).containsExactly(id + "#1");
    }

    @Test
    void aStepThatCannotFinishFailsWithAClearMessageInsteadOfHanging() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ManualEngine engine = engine("a", ctx -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.succeeded();
        });
        engine.stepLimit(Duration.ofMillis(200)).hourglass().schedule(work(), When.now());
        assertThat(engine.startDue()).isEqualTo(1);
        try {
            assertThatThrownBy(engine::awaitIdle)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("after 200 ms (1 attempts running")
                    .hasMessageContaining("move the clock past its timeout");
        } finally {
            release.countDown();
        }
        engine.awaitIdle();
    }
}
