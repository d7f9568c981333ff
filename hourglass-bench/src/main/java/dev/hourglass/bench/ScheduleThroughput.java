package dev.hourglass.bench;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S1, library mode: N callers each call the blocking {@code schedule()} in a loop; every call returns only after the
 * commit (fsync) that holds its job. Jobs are due in an hour so firing does not compete with scheduling.
 */
final class ScheduleThroughput {
    private ScheduleThroughput() {}

    static void run(Report report, Path workDir, int callers, Duration duration) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "s1-" + callers);
        byte[] payload = "{\"to\":\"user@example.com\",\"template\":\"reminder\"}".getBytes(StandardCharsets.UTF_8);
        try (Hourglass engine = BenchEngines.engine(dir, ctx -> Outcome.succeeded(), EngineMetrics.NOOP, 512)) {
            Map<String, Object> figures = measure(engine, callers, duration, Duration.ofSeconds(1), payload);
            report.result("schedule-library", figures);
        } finally {
            BenchEngines.delete(dir);
        }
    }

    static Map<String, Object> measure(Hourglass engine, int callers, Duration duration, Duration warmup,
            byte[] payload) throws InterruptedException {
        JobRequest job = JobRequest.of("noop", payload);
        return measure(engine, callers, duration, warmup, caller -> job);
    }

    /** {@link #measure} with each caller's request: {@code jobOf} gets the caller's number. */
    static Map<String, Object> measure(Hourglass engine, int callers, Duration duration, Duration warmup,
            IntFunction<JobRequest> jobOf) throws InterruptedException {
        Recorder latency = new Recorder(3);
        LongAdder done = new LongAdder();
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            JobRequest job = jobOf.apply(i);
            threads.add(Thread.ofPlatform().name("caller-" + i).start(() -> {
                while (!stop.get()) {
                    long t0 = System.nanoTime();
                    engine.schedule(job, When.after(Duration.ofHours(1)));
                    if (measuring.get()) {
                        latency.recordValue((System.nanoTime() - t0) / 1_000);
                        done.increment();
                    }
                }
            }));
        }
        Thread.sleep(warmup.toMillis());
        measuring.set(true);
        latency.reset();
        long t0 = System.nanoTime();
        long seconds = Math.max(1, duration.toSeconds());
        for (long s = 1; s <= seconds; s++) {
            Thread.sleep(1_000);
            Report.progress("%d callers: %d s, %,d scheduled", callers, s, done.sum());
        }
        long elapsed = System.nanoTime() - t0;
        measuring.set(false);
        long count = done.sum();
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        Histogram h = latency.getIntervalHistogram();
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("callers", callers);
        figures.put("jobs", count);
        figures.put("per_s", count / (elapsed / 1e9));
        figures.putAll(Report.percentilesMs("latency_", h));
        return figures;
    }
}
