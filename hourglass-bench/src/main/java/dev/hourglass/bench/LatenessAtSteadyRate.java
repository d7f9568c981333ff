package dev.hourglass.bench;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S3: jobs fire at a steady rate. A pacer schedules {@code rate} jobs per second, each due {@code lead} later, so that
 * after the lead time the engine fires {@code rate} jobs per second while it keeps accepting new ones. Lateness is
 * the wall-clock time from a job's due time to the start of its handler (no-op), in microseconds; a negative value
 * would be an early firing and is counted separately. The first {@link #WARMUP} of due times is not measured.
 * {@link #runRates} runs it at several rates, each on a fresh store, and ends with a table and a plot.
 */
final class LatenessAtSteadyRate {
    static final Duration WARMUP = Duration.ofSeconds(5);
    /** The rates of the performance issue's S3, in the order they run. */
    static final List<Integer> DEFAULT_RATES = List.of(500, 2_000, 10_000);
    /** The rates the issue sets S3 targets for; higher rates are reported only. */
    static final int TARGET_MAX_RATE = 2_000;

    private LatenessAtSteadyRate() {}

    /**
     * The figures of one rate.
     *
     * @param measured the fires whose due time was after the warm-up (the percentiles' population, plus early ones)
     * @param micros lateness of the measured on-time and late fires, in microseconds
     */
    record Result(int rate, Duration window, long scheduled, long fired, long measured, long early,
            Histogram micros) {
        boolean meetsTargets() {
            return early == 0 && fired == scheduled
                    && micros.getValueAtPercentile(99) / 1000.0 <= PgTable.TARGET_P99_MS
                    && micros.getValueAtPercentile(99.9) / 1000.0 <= PgTable.TARGET_P999_MS;
        }
    }

    /** S3 at each rate in turn (one RESULT line each), then a Markdown table and the plot in {@code plots}. */
    static List<Result> runRates(Report report, Path workDir, List<Integer> rates, Duration duration, Path plots,
            String profile) throws Exception {
        List<Result> results = new ArrayList<>();
        for (int rate : rates) {
            results.add(run(report, workDir, rate, duration));
        }
        System.out.println();
        System.out.printf("S3 lateness, library mode on SQLite, %d s per rate (%s profile), ms:%n%n",
                duration.toSeconds(), profile);
        System.out.println("| Fires/s | Scheduled | Fired | Measured | Early | p50 | p90 | p99 | p99.9 | max "
                + "| Targets (p99 <= 10, p99.9 <= 25, 0 early) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (Result r : results) {
            Histogram h = r.micros();
            System.out.printf(Locale.ROOT, "| %,d | %,d | %,d | %,d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %s |%n",
                    r.rate(), r.scheduled(), r.fired(), r.measured(), r.early(),
                    h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0,
                    h.getMaxValue() / 1000.0, (r.meetsTargets() ? "met" : "MISSED")
                            + (r.rate() > TARGET_MAX_RATE ? " (reported only)" : ""));
        }
        System.out.println();
        BenchPlots.libraryLateness(plots, profile, results);
        return results;
    }

    static Result run(Report report, Path workDir, int rate, Duration duration) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "s3-" + rate);
        Recorder lateness = new Recorder(3);
        LongAdder early = new LongAdder();
        LongAdder fired = new LongAdder();
        LongAdder measured = new LongAdder();
        LongAccumulator worstMicros = new LongAccumulator(Math::max, Long.MIN_VALUE); // since the last progress line
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
                worstMicros.accumulate(micros);
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
                engine.scheduleAsync(job, When.at(engine.wallClock().instant().plus(lead)));
                if (i > 0 && i % rate == 0) {
                    long worst = worstMicros.getThenReset();
                    Report.progress("%d/s: %d s, %,d scheduled, %,d fired, latest second's worst lateness %s", rate,
                            i / rate, i, fired.sum(), worst == Long.MIN_VALUE ? "-"
                                    : String.format(Locale.ROOT, "%.1f ms", worst / 1000.0));
                }
            }
            long deadline = System.nanoTime() + lead.plusSeconds(10).toNanos();
            while (fired.sum() < total && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (fired.sum() < total) {
                Report.progress("%d/s: %,d of %,d fired by %d s after the last due time", rate, fired.sum(), total,
                        lead.plusSeconds(10).toSeconds());
            }
            Histogram h = lateness.getIntervalHistogram();
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("rate_per_s", rate);
            figures.put("seconds", duration.toSeconds());
            figures.put("scheduled", total);
            figures.put("fired", fired.sum());
            figures.put("measured", measured.sum());
            figures.put("early", early.sum());
            figures.put("lateness_p50_ms", h.getValueAtPercentile(50) / 1000.0);
            figures.put("lateness_p90_ms", h.getValueAtPercentile(90) / 1000.0);
            figures.putAll(Report.percentilesMs("lateness_", h)); // p50 keeps its place, then p99, p99.9, max
            report.result("lateness", figures);
            return new Result(rate, duration, total, fired.sum(), measured.sum(), early.sum(), h);
        } finally {
            BenchEngines.delete(dir);
        }
    }
}
