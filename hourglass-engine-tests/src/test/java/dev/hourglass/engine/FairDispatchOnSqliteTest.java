package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.TenantShares;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants share a node fairly, on a real SQLite file with the real clock: one tenant's burst does not delay another
 * tenant's jobs, and a tenant whose target hangs holds only its own slots. Timing figures are printed so that they
 * can be quoted; the bounds asserted are loose because CI machines are noisy, but each fails if the other tenant
 * waits behind the burst.
 */
class FairDispatchOnSqliteTest {
    private static final InstantSource WALL = SystemTime.wallClock();
    /** Simulated delivery time of one webhook, on the attempt's virtual thread. */
    private static final long DELIVERY_MILLIS = 1;

    @TempDir
    Path dir;

    /**
     * What one run of the noisy-neighbour workload measured: b's lateness sorted, how long a's jobs took to drain
     * from their due time, the slowest store commit from b's due time on (what b's start may have waited for), and
     * the GC pauses between b's due time and its last start (when nothing ran).
     */
    private record Figures(long[] latenessB, long aJobs, long aDrainMillis, long slowestCommitMillis,
            long gcPauseMillis) {
        long percentileB(double p) {
            return latenessB[Math.min(latenessB.length - 1, (int) Math.ceil(p * latenessB.length) - 1)];
        }

        long maxB() {
            return latenessB[latenessB.length - 1];
        }

        String line(boolean fair) {
            return String.format("noisy-neighbour fair=%s: B p50=%d ms p99=%d ms max=%d ms; A drained %d in %.2f s "
                    + "(%.0f jobs/s); slowest commit %d ms, GC paused %d ms while B was due", fair ? "on" : "off",
                    percentileB(0.50), percentileB(0.99), maxB(), aJobs, aDrainMillis / 1000.0,
                    aJobs * 1000.0 / aDrainMillis, slowestCommitMillis, gcPauseMillis);
        }
    }

    /**
     * Bounds, from runs on a 2-core machine shared with other builds: with fairness on, b's p99 was 8 to 150 ms
     * while a drained at 24,000 to 39,000 jobs/s (2.6 to 4.1 s); with it off, b's jobs waited behind a's backlog,
     * nearly the whole drain (1.6 to 4.1 s). What is left with fairness on is b's start waiting for a slot (freed as
     * a's outcome commits land), for the commit in progress and for its own (each ~30 to 50 ms for 512 starts here),
     * and its virtual thread waiting for a carrier on a saturated machine; and a stop-the-world GC pause stops
     * everything (young pauses of up to 450 ms were seen here, which made b 305 and 388 ms late in two runs). So the
     * bound is 200 ms, or a tenth of a's drain on a machine so slow that a's drain takes over 2 s, plus the GC
     * pauses while b's jobs were due: either way far below "behind the backlog".
     */
    @Test
    void aBurstOfOneTenantDoesNotDelayAnotherTenantsJobsAndDoesWithFairnessOff() throws Exception {
        noisyNeighbour(true, 10_000); // warm-up: compiled code, so that neither measured run pays for the JIT
        Figures on = noisyNeighbour(true, 100_000);
        System.out.println(on.line(true));
        Figures off = noisyNeighbour(false, 100_000);
        System.out.println(off.line(false));

        assertThat(on.percentileB(0.99)).as("B's p99 lateness with fairness on, ms")
                .isLessThan(Math.max(200, on.aDrainMillis() / 10) + on.gcPauseMillis());
        assertThat(off.percentileB(0.50)).as("B's p50 lateness with fairness off: behind A's backlog, ms")
                .isGreaterThan(Math.max(1_000, 5 * on.percentileB(0.50)));
    }

    /**
     * Tenant {@code a} schedules {@code aJobs} jobs due at one instant T, tenant {@code b} 100 jobs due at T + 100 ms;
     * every delivery takes {@link #DELIVERY_MILLIS}. Returns b's lateness (start minus due, wall clock) and a's drain.
     * Each job's payload is its number, so that runs are counted per job without holding on to 100,000 ids.
     */
    private Figures noisyNeighbour(boolean fair, int aJobs) throws Exception {
        int bJobs = 100;
        int total = aJobs + bJobs;
        AtomicIntegerArray runs = new AtomicIntegerArray(total);
        AtomicLongArray latenessB = new AtomicLongArray(bJobs);
        AtomicInteger bStarted = new AtomicInteger();
        AtomicLong gcAtLastB = new AtomicLong();
        AtomicLong lastAEnd = new AtomicLong();
        AtomicInteger succeeded = new AtomicInteger();
        AtomicLong slowestCommitNanos = new AtomicLong();
        EngineMetrics metrics = new EngineMetrics() {
            @Override
            public void attemptFinished(Job job, JobState state) {
                if (state == JobState.SUCCEEDED) {
                    succeeded.incrementAndGet();
                }
            }

            @Override
            public void committed(int operations, long nanos) {
                slowestCommitNanos.accumulateAndGet(nanos, Math::max);
            }
        };
        Path file = dir.resolve("fair-" + fair + ".db");
        try (Hourglass engine = Hourglass.builder()
                .store(SqliteJobStore.open(file))
                .config(EngineConfig.defaults("fair-" + fair))
                .fairDispatch(fair)
                .metrics(metrics)
                .handler("deliver", ctx -> {
                    long lateness = WALL.millis() - ctx.dueAt().toEpochMilli();
                    int n = ByteBuffer.wrap(ctx.payload()).getInt();
                    runs.incrementAndGet(n);
                    if (n >= aJobs) {
                        latenessB.set(n - aJobs, lateness);
                        if (bStarted.incrementAndGet() == bJobs) {
                            gcAtLastB.set(gcPauseMillis());
                        }
                    }
                    Thread.sleep(DELIVERY_MILLIS);
                    if (n < aJobs) {
                        lastAEnd.accumulateAndGet(WALL.millis(), Math::max);
                    }
                    return Outcome.succeeded();
                })
                .build()) {
            // Far enough ahead that every job is scheduled (claimed into the timer) before T, well within the horizon:
            // 100,000 took 1.1 to 3.2 s here.
            Instant t = WALL.instant().plusMillis(Math.max(2_000, aJobs / 12));
            Instant tb = t.plusMillis(100);
            long scheduleStart = System.nanoTime();
            CountDownLatch scheduled = new CountDownLatch(total);
            AtomicInteger created = new AtomicInteger();
            for (int n = 0; n < total; n++) {
                JobRequest job = JobRequest.of("deliver", ByteBuffer.allocate(4).putInt(n).array())
                        .withTenant(n < aJobs ? "a" : "b");
                engine.scheduleAsync(job, When.at(n < aJobs ? t : tb)).whenComplete((r, error) -> {
                    if (r instanceof InsertResult.Created) {
                        created.incrementAndGet();
                    }
                    scheduled.countDown();
                });
            }
            assertThat(scheduled.await(60, TimeUnit.SECONDS)).isTrue();
            long scheduledMillis = (System.nanoTime() - scheduleStart) / 1_000_000;
            assertThat(created).hasValue(total);
            assertThat(WALL.instant()).as("all %d jobs scheduled (in %d ms) before they fall due", total,
                    scheduledMillis).isBefore(t.minusMillis(500));
            System.out.printf("noisy-neighbour fair=%s: scheduled %d jobs in %d ms%n", fair ? "on" : "off", total,
                    scheduledMillis);

            Thread.sleep(Math.max(0, tb.toEpochMilli() - WALL.millis()));
            long gcAtB = gcPauseMillis();
            slowestCommitNanos.set(0); // from here on: the commits b's starts may wait for
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> succeeded.get() == total);
            for (int n = 0; n < total; n++) {
                assertThat(runs.get(n)).as("runs of job %d", n).isEqualTo(1);
            }
            assertThat(engine.queuedDue()).isZero();

            long[] sorted = new long[bJobs];
            for (int i = 0; i < bJobs; i++) {
                sorted[i] = latenessB.get(i);
            }
            Arrays.sort(sorted);
            return new Figures(sorted, aJobs, lastAEnd.get() - t.toEpochMilli(),
                    slowestCommitNanos.get() / 1_000_000, gcAtLastB.get() - gcAtB);
        }
    }

    /** Stop-the-world time of every collector so far, ms (G1: young, mixed and full pauses, remark and cleanup). */
    private static long gcPauseMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime).filter(ms -> ms > 0).sum();
    }

    @Test
    void aTenantWhoseTargetHangsHoldsOnlyItsOwnSlots() throws Exception {
        int engineSlots = 8;
        int aLimit = 4;
        TenantShares shares = new TenantShares() {
            @Override
            public int weight(String tenant) {
                return 1;
            }

            @Override
            public int maxInFlight(String tenant) {
                return tenant.equals("a") ? aLimit : NO_LIMIT;
            }
        };
        CountDownLatch targetBack = new CountDownLatch(1);
        AtomicInteger aRunning = new AtomicInteger();
        AtomicInteger aMostAtOnce = new AtomicInteger();
        Map<JobId, Long> bLateness = new ConcurrentHashMap<>();
        EngineConfig config = EngineConfig.builder("limits").maxInFlight(engineSlots).build();
        try (Hourglass engine = Hourglass.builder()
                .store(SqliteJobStore.open(dir.resolve("limits.db")))
                .config(config)
                .tenantShares(shares)
                .handler("deliver", ctx -> {
                    if (ctx.job().tenant().equals("a")) {
                        aMostAtOnce.accumulateAndGet(aRunning.incrementAndGet(), Math::max);
                        try {
                            targetBack.await(); // the target hangs
                        } finally {
                            aRunning.decrementAndGet();
                        }
                    } else {
                        bLateness.put(ctx.id(), WALL.millis() - ctx.dueAt().toEpochMilli());
                    }
                    return Outcome.succeeded();
                })
                .build()) {
            JobRequest a = JobRequest.of("deliver", new byte[0]).withTenant("a");
            List<JobId> aIds = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                aIds.add(engine.schedule(a, When.after(Duration.ZERO)).job().id());
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> aRunning.get() == aLimit);

            JobRequest b = JobRequest.of("deliver", new byte[0]).withTenant("b");
            List<JobId> bIds = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                bIds.add(engine.schedule(b, When.after(Duration.ZERO)).job().id());
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> bIds.stream()
                    .allMatch(id -> engine.getStatus(id).map(Job::state).orElseThrow() == JobState.SUCCEEDED));
            long bMax = bLateness.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            System.out.printf("per-tenant limit: a holds %d of %d slots (hanging target); b's 20 jobs ran at most %d "
                    + "ms late; %d of a's jobs wait%n", aRunning.get(), engineSlots, bMax, engine.queuedDue());
            assertThat(aRunning).as("a's attempts still hanging").hasValue(aLimit);
            assertThat(engine.queuedDue()).as("a's other jobs wait for a's slots").isEqualTo(50 - aLimit);
            assertThat(bMax).as("b's lateness, ms").isLessThan(1_000);

            targetBack.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> aIds.stream()
                    .allMatch(id -> engine.getStatus(id).map(Job::state).orElseThrow() == JobState.SUCCEEDED));
            assertThat(aMostAtOnce).as("a's attempts at once, at most its limit").hasValue(aLimit);
        }
    }
}
