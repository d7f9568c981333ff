package dev.hourglass.bench;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S3: jobs fire at a steady rate. A pacer schedules {@code rate} jobs per second, each due {@code lead} later, so that
 * after the lead time the engine fires {@code rate} jobs per second while it keeps accepting new ones. Lateness is
 * the wall-clock time from a job's due time to the start of its handler (no-op), in microseconds; a negative value
 * would be an early firing and is counted separately. The first {@link #WARMUP} of due times is not measured.
 */
final class LatenessAtSteadyRate {
    static final Duration WARMUP = Duration.ofSeconds(5);

    private LatenessAtSteadyRate() {}

    static void run(Report report, Path workDir, int rate, Duration duration) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "s3-" + rate);
        Recorder lateness = new Recorder(3);
        LongAdder early = new LongAdder();
        LongAdder fired = new LongAdder();
        LongAdder measured = new LongAdder();
        // Jobs due in the first WARMUP seconds run while the JIT compiles the hot paths; they are fired and checked
        // for earliness, but left out of the lateness percentiles.
        // Short (smoke) runs measure everything: they have no steady state to speak of.
        Duration warmup = duration.compareTo(WARMUP.multipliedBy(2)) >= 0 ? WARMUP : Duration.ZERO;
        AtomicLong measureFromMillis = new AtomicLong(Long.MAX_VALUE); // set from the engine's clock once it runs
        EngineMetrics metrics = new EngineMetrics() {
            @Override
            public void attemptStarted(Job job, Duration late) {
                fired.increment();
                long micros = late.toNanos() / 1_000;
                if (micros >= 0 && job.dueAt().toEpochMilli() < measureFromMillis.get()) {
                    return;
                }
                measured.increment();
                if (micros < 0) {
                    early.increment();
                } else {
                    lateness.recordValue(micros);
                }
            }
        };
        Duration lead = Duration.ofSeconds(2);
        byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);
        try (Hourglass engine = BenchEngines.engine(dir, ctx -> Outcome.succeeded(), metrics, 512)) {
            measureFromMillis.set(engine.wallClock().millis() + warmup.toMillis());
            JobRequest job = JobRequest.of("noop", payload);
            long total = (long) rate * duration.toSeconds();
            long intervalNanos = 1_000_000_000L / rate;
            long start = System.nanoTime();
            for (long i = 0; i < total; i++) {
                long target = start + i * intervalNanos;
                long wait = target - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                engine.scheduleAtAsync(job, engine.wallClock().instant().plus(lead));
                if (i > 0 && i % rate == 0) {
                    Report.progress("%d/s: %d s, %,d scheduled, %,d fired", rate, i / rate, i, fired.sum());
                }
            }
            long deadline = System.nanoTime() + lead.plusSeconds(10).toNanos();
            while (fired.sum() < total && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Histogram h = lateness.getIntervalHistogram();
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("rate_per_s", rate);
            figures.put("scheduled", total);
            figures.put("fired", fired.sum());
            figures.put("measured", measured.sum());
            figures.put("early", early.sum());
            figures.putAll(Report.percentilesMs("lateness_", h));
            report.result("lateness", figures);
        } finally {
            BenchEngines.delete(dir);
        }
    }
}
