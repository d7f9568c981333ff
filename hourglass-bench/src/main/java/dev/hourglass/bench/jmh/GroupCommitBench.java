package dev.hourglass.bench.jmh;

import dev.hourglass.bench.QuietLogs;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Durable schedules per second through the library API on an SQLite store: every schedule completes only after the
 * fsync'd commit that holds it, so these figures are the group committer's. One caller pays a commit per job; more
 * callers, or one caller with many schedules in flight, share commits.
 *
 * <p>Jobs are due in an hour, beyond the engine's horizon, so nothing fires while this measures. The store grows by
 * every job scheduled (a few hundred thousand rows in a full run), as a real one would.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GroupCommitBench {
    /** Schedules in flight at once for {@link #asyncBatch}: enough to fill several commits. */
    static final int IN_FLIGHT = 256;
    static final Duration DELAY = Duration.ofHours(1);

    private final JobRequest job = JobRequest.of("noop",
            "{\"to\":\"user@example.com\",\"template\":\"reminder\"}".getBytes(StandardCharsets.UTF_8));
    private Path dir;
    private Hourglass engine;

    @Setup(Level.Trial)
    public void start() {
        QuietLogs.forMicrobenchmarks();
        dir = Scratch.create("group-commit");
        engine = Hourglass.builder()
                .store(SqliteJobStore.open(dir.resolve("hourglass.db")))
                .config(EngineConfig.defaults("jmh"))
                .handler("noop", ctx -> Outcome.succeeded())
                .build();
    }

    @TearDown(Level.Trial)
    public void stop() {
        if (engine != null) {
            engine.close();
        }
        Scratch.delete(dir);
    }

    /** One blocking caller: a commit (and an fsync) per job, the latency floor. */
    @Benchmark
    @Threads(1)
    public InsertResult oneCaller() {
        return engine.schedule(job, When.after(DELAY));
    }

    /** Eight blocking callers: their jobs share commits. */
    @Benchmark
    @Threads(8)
    public InsertResult eightCallers() {
        return engine.schedule(job, When.after(DELAY));
    }

    /** One caller with {@link #IN_FLIGHT} asynchronous schedules, waiting for all: a bulk import. */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(IN_FLIGHT)
    public Object asyncBatch() {
        CompletableFuture<?>[] pending = new CompletableFuture<?>[IN_FLIGHT];
        for (int i = 0; i < IN_FLIGHT; i++) {
            pending[i] = engine.scheduleAsync(job, When.after(DELAY));
        }
        return CompletableFuture.allOf(pending).join();
    }
}
