package dev.hourglass.bench;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S1 on PostgreSQL: {@code callers} platform threads call the system's blocking schedule in a loop (jobs due in an
 * hour, so nothing fires), 1 s of warm-up, then {@code duration} measured. Every call returns only after its job is
 * committed.
 */
final class PgScheduleThroughput {
    private static final Duration WARMUP = Duration.ofSeconds(1);
    /** A caller stuck in a call this long after the end is left behind (daemon thread) and reported. */
    private static final Duration JOIN_LIMIT = Duration.ofSeconds(30);

    private PgScheduleThroughput() {}

    static PgFigures.Schedule run(Report report, Contender contender, PgSystem system, int callers,
            Duration duration) throws Exception {
        system.start();
        Recorder latency = new Recorder(3);
        LongAdder done = new LongAdder();
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            int caller = i;
            threads.add(Thread.ofPlatform().daemon(true).name("s1-caller-" + i).start(() -> {
                try {
                    while (!stop.get()) {
                        Instant due = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
                        long t0 = System.nanoTime();
                        system.schedule(caller, due);
                        if (measuring.get()) {
                            latency.recordValue((System.nanoTime() - t0) / 1_000);
                            done.increment();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    stop.set(true);
                }
            }));
        }
        Thread.sleep(WARMUP.toMillis());
        latency.reset();
        system.workSinceLastCall(); // only the measured seconds count
        measuring.set(true);
        long t0 = System.nanoTime();
        long seconds = Math.max(1, duration.toSeconds());
        for (long s = 1; s <= seconds && !stop.get(); s++) {
            Thread.sleep(1_000);
            Report.progress("%s S1: %d s, %,d scheduled", contender.id(), s, done.sum());
        }
        measuring.set(false);
        long elapsed = System.nanoTime() - t0;
        long count = done.sum();
        String work = system.workSinceLastCall();
        if (work != null) {
            Report.progress("%s S1: %s", contender.id(), work);
        }
        stop.set(true);
        long joinDeadline = System.nanoTime() + JOIN_LIMIT.toNanos();
        for (Thread t : threads) {
            t.join(Duration.ofNanos(Math.max(1, joinDeadline - System.nanoTime())));
            if (t.isAlive()) {
                Report.progress("%s S1: caller %s still in a schedule call after %d s; left behind",
                        contender.id(), t.getName(), JOIN_LIMIT.toSeconds());
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a caller failed: " + failure.get(), failure.get());
        }
        Histogram h = latency.getIntervalHistogram();
        PgFigures.Schedule figures = new PgFigures.Schedule(callers, count, count / (elapsed / 1e9),
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("system", contender.id());
        line.put("callers", callers);
        line.put("jobs", count);
        line.put("per_s", figures.perSecond());
        line.putAll(Report.percentilesMs("latency_", h));
        report.result("pg-s1-schedule", line);
        return figures;
    }
}
