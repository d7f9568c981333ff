package dev.hourglass.bench.jmh;

import dev.hourglass.bench.QuietLogs;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.ClaimDueParams;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.ReleaseParams;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The horizon loader's write: one transaction that claims up to {@code batch} due, unowned jobs, earliest first,
 * through the store SPI ({@code StoreTx.claimDue}) on SQLite, with the lazy durability the engine uses for claims.
 * The primary figure is claim transactions per second; {@code jobs} is jobs claimed per second.
 *
 * <p>The store holds {@link #DUE_JOBS} due jobs. After each claim an invocation-level tear-down hands the claimed
 * jobs back ({@code release}, outside the measured time), so every claim finds the same backlog: refilling only per
 * iteration would let the backlog run dry, or the claims late in an iteration skip ever more owned rows.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ClaimBatchBench {
    static final int DUE_JOBS = 10_000;
    static final String OWNER = "jmh-node";
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    /** The loader claims what is due before now + horizon; every job here is due before that. */
    static final Instant HORIZON_END = NOW.plusSeconds(30);

    @Param({"100", "1000"})
    int batch;

    private Path dir;
    private SqliteJobStore store;

    /** Counts the jobs claimed, so JMH reports jobs/s beside claims/s (and a claim that comes back short shows). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Claimed {
        public long jobs;

        @Setup(Level.Iteration)
        public void reset() {
            jobs = 0;
        }
    }

    @Setup(Level.Trial)
    public void fill() {
        QuietLogs.forMicrobenchmarks();
        dir = Scratch.create("claim");
        store = SqliteJobStore.open(dir.resolve("hourglass.db"));
        JobIdGenerator ids = new JobIdGenerator(InstantSource.fixed(NOW));
        byte[] payload = "{\"to\":\"user@example.com\",\"template\":\"reminder\"}".getBytes(StandardCharsets.UTF_8);
        String target = "{\"type\":\"webhook\",\"url\":\"https://hooks.example.com/reminders\"}";
        List<NewJob> jobs = new ArrayList<>(DUE_JOBS);
        for (int i = 0; i < DUE_JOBS; i++) {
            // Due over the last 10 s, as a backlog that built up while no node was claiming.
            Instant due = NOW.minusMillis(10_000L * (DUE_JOBS - i) / DUE_JOBS);
            jobs.add(new NewJob(ids.next(), "default", "webhook", target, payload, due, due, 5, Backoff.DEFAULT, null,
                    null, null, null, null));
        }
        store.write(Durability.FSYNC, tx -> tx.insert(jobs));
    }

    @TearDown(Level.Invocation)
    public void handBack() {
        store.write(Durability.LAZY, tx -> tx.release(new ReleaseParams(OWNER, NOW)));
    }

    @TearDown(Level.Trial)
    public void close() {
        if (store != null) {
            store.close();
        }
        Scratch.delete(dir);
    }

    @Benchmark
    public List<Job> claim(Claimed claimed) {
        List<Job> jobs = store.write(Durability.LAZY, tx -> tx.claimDue(new ClaimDueParams(OWNER, HORIZON_END, batch, NOW)));
        claimed.jobs += jobs.size();
        return jobs;
    }
}
