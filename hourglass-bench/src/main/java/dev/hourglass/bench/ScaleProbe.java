package dev.hourglass.bench;

import ch.qos.logback.classic.Level;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The engine side of the {@code scale} scenario ({@link ScaleScenario}), run in a JVM of its own so that its heap and
 * RSS are the engine's alone (the loader, its batches and its garbage stay in the parent). One run opens an engine on
 * a store that already holds the backlog and, depending on its mode:
 * <ul>
 *   <li>{@code probe}: measures heap and RSS while idle, then schedule throughput (callers scheduling durably, due
 *       days ahead like the backlog) and lateness at a steady rate (jobs due {@link #LEAD} ahead, inside the
 *       horizon) while sampling heap and RSS; at the end it schedules one job due {@link #RESTART_DUE} from now and
 *       closes the engine at once: the restart begins.</li>
 *   <li>{@code restart}: started right after a probe exited; times {@code build()} and the first fire (that job)
 *       from the moment the previous engine began to close, then measures heap and RSS while idle once more.</li>
 * </ul>
 * Figures go to stdout as one {@code PROBE key=value ...} line; everything else it prints is progress.
 */
@Command(name = "scale-probe")
final class ScaleProbe implements Callable<Integer> {
    static final String NODE = "scale-node";
    static final String BACKLOG_HANDLER = "scale-backlog";
    static final String SCHEDULE_HANDLER = "scale-schedule";
    static final String LATE_HANDLER = "scale-late";
    static final String RESTART_HANDLER = "scale-restart";
    static final Duration LEAD = Duration.ofSeconds(2);
    static final Duration RESTART_DUE = Duration.ofSeconds(2);
    static final byte[] PAYLOAD = "{\"to\":\"user@example.com\",\"template\":\"reminder\"}"
            .getBytes(StandardCharsets.UTF_8);

    @Option(names = "--mode", required = true) String mode;
    @Option(names = "--store", required = true) String store;
    @Option(names = "--file") Path file;
    @Option(names = "--jdbc-url") String jdbcUrl;
    @Option(names = "--db-user") String dbUser;
    @Option(names = "--schema") String schema;
    @Option(names = "--callers", defaultValue = "8") int callers;
    @Option(names = "--warmup-ms", defaultValue = "1000") long warmupMs;
    @Option(names = "--seconds", defaultValue = "5") int seconds;
    @Option(names = "--rate", defaultValue = "500") int rate;
    @Option(names = "--late-seconds", defaultValue = "10") int lateSeconds;
    @Option(names = "--idle-ms", defaultValue = "2000") long idleMs;
    @Option(names = "--restart-begin-ms", defaultValue = "0") long restartBeginMs;

    private final Map<String, Object> out = new LinkedHashMap<>();

    /** When main() began: after the JVM's own start-up, before the store's and the engine's classes load. */
    private static long MAIN_STARTED_MS;

    public static void main(String[] args) {
        MAIN_STARTED_MS = System.currentTimeMillis();
        quiet();
        System.exit(new CommandLine(new ScaleProbe()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        CountDownLatch restartFired = new CountDownLatch(1);
        AtomicLong restartFiredMs = new AtomicLong();
        AtomicLong restartDueMs = new AtomicLong();
        Lateness lateness = new Lateness();
        long jvmStartMs = ManagementFactory.getRuntimeMXBean().getStartTime();
        long openStartMs = System.currentTimeMillis();
        JobStore jobStore = openStore();
        long buildStartMs = System.currentTimeMillis();
        out.put("open_ms", buildStartMs - openStartMs);
        Hourglass engine = Hourglass.builder()
                .store(jobStore)
                .config(EngineConfig.defaults(NODE))
                .handler(BACKLOG_HANDLER, ctx -> Outcome.succeeded())
                .handler(SCHEDULE_HANDLER, ctx -> Outcome.succeeded())
                .handler(LATE_HANDLER, ctx -> {
                    lateness.fired(ctx.dueAt());
                    return Outcome.succeeded();
                })
                .handler(RESTART_HANDLER, ctx -> {
                    if (restartFiredMs.compareAndSet(0, System.currentTimeMillis())) {
                        restartDueMs.set(ctx.dueAt().toEpochMilli());
                        restartFired.countDown();
                    }
                    return Outcome.succeeded();
                })
                .build();
        long builtMs = System.currentTimeMillis();
        out.put("build_ms", builtMs - buildStartMs);
        boolean closed = false;
        try {
            if (mode.equals("restart")) {
                out.put("jvm_start_ms", jvmStartMs - restartBeginMs);
                out.put("main_ms", MAIN_STARTED_MS - restartBeginMs);
                out.put("opened_ms", buildStartMs - restartBeginMs);
                out.put("built_ms", builtMs - restartBeginMs);
                boolean fired = restartFired.await(60, TimeUnit.SECONDS);
                out.put("first_fire_ms", fired ? restartFiredMs.get() - restartBeginMs : -1);
                out.put("first_fire_late_ms", fired ? restartFiredMs.get() - restartDueMs.get() : -1);
                idle(engine, "idle_");
            } else {
                idle(engine, "idle_");
                Sampler sampler = new Sampler();
                sampler.start();
                scheduleThroughput(engine);
                lateness(engine, lateness);
                sampler.stop();
                out.put("heap_load_max_mb", mb(sampler.maxHeap.get()));
                out.put("rss_load_max_mb", mb(sampler.maxRss.get()));
                System.gc();
                out.put("heap_after_load_mb", mb(heapUsed()));
                // The restart begins: a job due shortly, then the engine closes (handing its claim back) and the
                // parent starts a new JVM on the same store at once.
                long begin = System.currentTimeMillis();
                engine.schedule(JobRequest.of(RESTART_HANDLER, PAYLOAD), When.at(Instant.ofEpochMilli(begin)
                        .plus(RESTART_DUE)));
                engine.close();
                closed = true;
                out.put("close_ms", System.currentTimeMillis() - begin);
                out.put("restart_begin_ms", begin);
            }
        } finally {
            if (!closed) {
                engine.close();
            }
        }
        StringBuilder line = new StringBuilder("PROBE");
        out.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        System.out.println(line);
        System.out.flush();
        return 0;
    }

    private JobStore openStore() {
        return switch (store) {
            case "sqlite" -> SqliteJobStore.open(file);
            case "postgres" -> PostgresJobStore.open(PostgresOptions.of(jdbcUrl, dbUser,
                    System.getenv("HOURGLASS_DB_PASSWORD")).withSchema(schema));
            default -> throw new IllegalArgumentException("unknown store " + store);
        };
    }

    /** Idle: the engine's own rounds only (heartbeat, horizon claim). Heap after a full GC, and the process RSS. */
    private void idle(Hourglass engine, String prefix) throws InterruptedException {
        Thread.sleep(idleMs);
        System.gc();
        Thread.sleep(200);
        out.put(prefix + "heap_mb", mb(heapUsed()));
        out.put(prefix + "rss_mb", mb(rssBytes()));
        out.put(prefix + "timer", engine.timerSize());
    }

    /**
     * {@code callers} platform threads call the blocking {@code schedule()} in a loop, each job due 1 to 30 days
     * ahead like the backlog; every schedule is counted (warm-up too), so the parent knows how many pending jobs
     * this run added. Throughput and latency are of the measured seconds only.
     */
    private void scheduleThroughput(Hourglass engine) throws InterruptedException {
        Recorder latency = new Recorder(3);
        LongAdder measured = new LongAdder();
        LongAdder all = new LongAdder();
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        JobRequest job = JobRequest.of(SCHEDULE_HANDLER, PAYLOAD);
        long dayMs = Duration.ofDays(1).toMillis();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            threads.add(Thread.ofPlatform().name("caller-" + i).start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (!stop.get()) {
                    Duration delay = Duration.ofMillis(dayMs + random.nextLong(29 * dayMs));
                    long t0 = System.nanoTime();
                    engine.schedule(job, When.after(delay));
                    all.increment();
                    if (measuring.get()) {
                        latency.recordValue((System.nanoTime() - t0) / 1_000);
                        measured.increment();
                    }
                }
            }));
        }
        Thread.sleep(warmupMs);
        measuring.set(true);
        latency.reset();
        long t0 = System.nanoTime();
        for (int s = 1; s <= seconds; s++) {
            Thread.sleep(1_000);
            Report.progress("%d callers: %d s, %,d scheduled", callers, s, measured.sum());
        }
        long elapsed = System.nanoTime() - t0;
        measuring.set(false);
        long count = measured.sum();
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        Histogram h = latency.getIntervalHistogram();
        out.put("sched_per_s", String.format(Locale.ROOT, "%.0f", count / (elapsed / 1e9)));
        out.put("sched_p50_ms", ms(h.getValueAtPercentile(50)));
        out.put("sched_p99_ms", ms(h.getValueAtPercentile(99)));
        out.put("scheduled_total", all.sum());
    }

    /**
     * A pacer schedules {@code rate} jobs per second for {@code lateSeconds}, each due {@link #LEAD} later (inside
     * the horizon: claimed at insert and put straight into the timer). Lateness = wall clock at the start of the
     * handler - due time; jobs due in the first 2 s are left out of the percentiles (JIT) when the run is long
     * enough to have a steady state.
     */
    private void lateness(Hourglass engine, Lateness lateness) throws InterruptedException {
        long total = (long) rate * lateSeconds;
        long warmupMs = lateSeconds >= 6 ? 2_000 : 0;
        lateness.measureFromMs.set(System.currentTimeMillis() + LEAD.toMillis() + warmupMs);
        JobRequest job = JobRequest.of(LATE_HANDLER, PAYLOAD);
        long interval = 1_000_000_000L / rate;
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
            long wait = start + i * interval - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            engine.scheduleAsync(job, When.at(engine.wallClock().instant().plus(LEAD)));
            if (i > 0 && i % rate == 0) {
                Report.progress("%d/s: %d s, %,d scheduled, %,d fired", rate, i / rate, i, lateness.fired.sum());
            }
        }
        long deadline = System.nanoTime() + LEAD.plusSeconds(10).toNanos();
        while (lateness.fired.sum() < total && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Histogram h = lateness.micros.getIntervalHistogram();
        out.put("late_fired", lateness.fired.sum());
        out.put("late_of", total);
        out.put("late_measured", h.getTotalCount() + lateness.early.sum());
        out.put("late_early", lateness.early.sum());
        out.put("late_p50_ms", ms(h.getValueAtPercentile(50)));
        out.put("late_p99_ms", ms(h.getValueAtPercentile(99)));
        out.put("late_p99.9_ms", ms(h.getValueAtPercentile(99.9)));
        out.put("late_max_ms", ms(h.getMaxValue()));
    }

    /** Lateness of the handler starts of the paced jobs, in microseconds. */
    private static final class Lateness {
        final Recorder micros = new Recorder(3);
        final LongAdder fired = new LongAdder();
        final LongAdder early = new LongAdder();
        final AtomicLong measureFromMs = new AtomicLong(Long.MAX_VALUE);

        void fired(Instant dueAt) {
            Instant now = Instant.now();
            fired.increment();
            if (dueAt.toEpochMilli() < measureFromMs.get()) {
                return;
            }
            long us = Duration.between(dueAt, now).toNanos() / 1_000;
            if (us < 0) {
                early.increment();
            } else {
                micros.recordValue(us);
            }
        }
    }

    /** Heap used (garbage included) and RSS, every 100 ms, keeping the largest of each. */
    private static final class Sampler {
        final AtomicLong maxHeap = new AtomicLong();
        final AtomicLong maxRss = new AtomicLong();
        private volatile boolean running = true;
        private Thread thread;

        void start() {
            thread = Thread.ofPlatform().daemon(true).name("scale-sampler").start(() -> {
                while (running) {
                    maxHeap.accumulateAndGet(heapUsed(), Math::max);
                    maxRss.accumulateAndGet(rssBytes(), Math::max);
                    LockSupport.parkNanos(100_000_000L);
                }
            });
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }
    }

    static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** VmRSS of this process from /proc/self/status, in bytes; 0 where there is no /proc (not Linux). */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc: report 0
        }
        return 0;
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
    }

    private static String ms(long micros) {
        return String.format(Locale.ROOT, "%.2f", micros / 1000.0);
    }

    /** The engine's and the stores' INFO lines (open, close, hand-back) would interleave with the progress lines. */
    static void quiet() {
        for (String name : new String[] {"dev.hourglass", "com.zaxxer.hikari", "org.flywaydb"}) {
            if (LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
                logger.setLevel(Level.WARN);
            }
        }
    }
}
