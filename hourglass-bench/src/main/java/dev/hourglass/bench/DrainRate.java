package dev.hourglass.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.JobStore;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * S2: {@code count} jobs all due at the same instant T. They are written straight into the store beforehand (the
 * insert path is measured by S1), the engine loads them into its timer ahead of T, and at T they all come due at
 * once. The drain rate is count / (time of the last completion - T): each job costs a start write, the handler and
 * a finish write (which, with the delivery history on, also writes the attempt's row).
 */
final class DrainRate {
    private static final int INSERT_BATCH = 5_000;
    private static final OperatingSystemMXBean PROCESS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private DrainRate() {}

    static void run(Report report, Path workDir, String scenario, int count, String handlerName,
            JobHandler handler, String target, int maxInFlight) throws Exception {
        run(report, workDir, scenario, count, handlerName, handler, target, maxInFlight, Map.of());
    }

    /** @param labels extra figures for the RESULT line that say how the run was set up */
    static void run(Report report, Path workDir, String scenario, int count, String handlerName,
            JobHandler handler, String target, int maxInFlight, Map<String, Object> labels) throws Exception {
        try (DrainStore store = DrainStore.sqlite(workDir, "s2-" + scenario)) {
            report.result(scenario, drain(store, scenario, count, lead(count), handlerName, handler, target,
                    maxInFlight, true).figures(labels));
        }
    }

    /**
     * What one drain did, and the delivery history it left (counted after the engine closed). {@code cpuSeconds}:
     * this process's CPU time from T until the drain was seen done (within 20 ms of the last completion); it leaves
     * out what other processes spend (PostgreSQL, the webhook receiver).
     */
    record Drain(int jobs, long finished, long succeeded, double seconds, double cpuSeconds,
            DrainStore.HistoryRows history) {
        double perSecond() {
            return finished / seconds;
        }

        /** This process's CPU per finished attempt, in microseconds. */
        double cpuMicrosPerJob() {
            return cpuSeconds * 1e6 / finished;
        }

        /** The RESULT line's figures, after {@code labels}. */
        Map<String, Object> figures(Map<String, Object> labels) {
            Map<String, Object> figures = new LinkedHashMap<>(labels);
            figures.put("jobs", jobs);
            figures.put("finished", finished);
            figures.put("succeeded", succeeded);
            figures.put("seconds", seconds);
            figures.put("per_s", perSecond());
            return figures;
        }
    }

    /** How far ahead T lies when the insert begins: time to write {@code count} jobs and load them into the timer. */
    static Duration lead(int count) {
        return Duration.ofSeconds(Math.max(10, count / 10_000 + 8));
    }

    /**
     * One drain of {@code count} jobs on {@code store} (fresh and empty), due {@code lead} from now, by an engine
     * built with {@code deliveryHistory}; gives up 5 minutes after T and then says how far it got.
     */
    static Drain drain(DrainStore store, String scenario, int count, Duration lead, String handlerName,
            JobHandler handler, String target, int maxInFlight, boolean deliveryHistory) throws Exception {
        InstantSource wall = InstantSource.system();
        Instant dueAt = wall.instant().plus(lead);
        long inserted = insert(store, count, dueAt, handlerName, target, wall);
        Report.progress("%s: %,d jobs due at %s inserted in %d ms", scenario, count, dueAt, inserted);
        LongAdder finished = new LongAdder();
        LongAdder succeeded = new LongAdder();
        AtomicLong lastFinishNanos = new AtomicLong();
        EngineMetrics metrics = new EngineMetrics() {
            @Override
            public void attemptFinished(Job job, JobState state) {
                finished.increment();
                if (state == JobState.SUCCEEDED) {
                    succeeded.increment();
                }
                lastFinishNanos.set(System.nanoTime());
            }
        };
        double seconds;
        double cpuSeconds;
        try (Hourglass engine = BenchEngines.engine(store.open(), handler, metrics, maxInFlight, handlerName,
                deliveryHistory)) {
            long waitMs = Duration.between(wall.instant(), dueAt).toMillis();
            Thread.sleep(Math.max(0, waitMs));
            long dueNanos = System.nanoTime();
            long cpuAtDue = PROCESS.getProcessCpuTime();
            long deadline = dueNanos + Duration.ofMinutes(5).toNanos();
            long lastPrint = dueNanos;
            while (finished.sum() < count && System.nanoTime() < deadline) {
                Thread.sleep(20);
                if (System.nanoTime() - lastPrint > 1_000_000_000L) {
                    lastPrint = System.nanoTime();
                    Report.progress("%s: %,d of %,d done", scenario, finished.sum(), count);
                }
            }
            seconds = (lastFinishNanos.get() - dueNanos) / 1e9;
            cpuSeconds = (PROCESS.getProcessCpuTime() - cpuAtDue) / 1e9;
        }
        return new Drain(count, finished.sum(), succeeded.sum(), seconds, cpuSeconds, store.historyRows());
    }

    private static long insert(DrainStore place, int count, Instant dueAt, String handler, String target,
            InstantSource wall) {
        long t0 = System.nanoTime();
        JobIdGenerator ids = new JobIdGenerator(wall);
        byte[] payload = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
        try (JobStore store = place.open()) {
            for (int done = 0; done < count; done += INSERT_BATCH) {
                List<NewJob> batch = new ArrayList<>(INSERT_BATCH);
                Instant now = wall.instant();
                for (int i = done; i < Math.min(count, done + INSERT_BATCH); i++) {
                    batch.add(new NewJob(ids.next(), "default", handler, target, payload, dueAt, now, 5,
                            Backoff.DEFAULT, null, null, null, null, null));
                }
                store.write(Durability.FSYNC, tx -> tx.insert(batch));
            }
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
