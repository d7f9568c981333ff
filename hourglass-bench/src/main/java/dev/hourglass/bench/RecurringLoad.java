package dev.hourglass.bench;

import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.ScheduledRun;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.schedules.JdbcScheduleStore;
import dev.hourglass.schedules.OverlapGuard;
import dev.hourglass.schedules.RecurringSchedules;
import dev.hourglass.schedules.ScheduleDefinition;
import dev.hourglass.schedules.ScheduleStore;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Issue 15's figure: many recurring schedules on one library node (SQLite), each every {@code every}, their start
 * times spread evenly over one interval so that the runs arrive at a steady rate (10,000 every minute: about 167 a
 * second). Every run's lateness is its handler's start minus its due time (no jitter, so the due time is the nominal
 * time); a run before it is early; a nominal time in the measured window with no run is missed.
 */
final class RecurringLoad {
    private RecurringLoad() {}

    record Options(int schedules, Duration every, Duration measured) {}

    static void run(Report report, Path parent, Options options) throws Exception {
        Path dir = BenchEngines.scratch(parent, "recurring");
        InstantSource clock = SystemTime.wallClock();
        Histogram lateness = new ConcurrentHistogram(3);
        AtomicLong early = new AtomicLong();
        AtomicLong deliveries = new AtomicLong();
        Set<String> delivered = ConcurrentHashMap.newKeySet();
        JobHandler handler = ctx -> {
            Instant now = clock.instant();
            ScheduledRun run = ctx.scheduledRun().orElseThrow();
            long lateMicros = Duration.between(ctx.dueAt(), now).toNanos() / 1_000;
            if (lateMicros < 0) {
                early.incrementAndGet();
            } else {
                lateness.recordValue(lateMicros);
            }
            deliveries.incrementAndGet();
            delivered.add(run.scheduleId() + "@" + run.nominalAt().toEpochMilli());
            return Outcome.succeeded();
        };
        SqliteJobStore store = SqliteJobStore.open(dir.resolve("hourglass.db"));
        ScheduleStore scheduleStore = JdbcScheduleStore.on(store);
        try (Hourglass engine = BenchEngines.engine(store, new OverlapGuard(handler, scheduleStore, store),
                EngineMetrics.NOOP, 512, "recurring", true);
                RecurringSchedules schedules = new RecurringSchedules(engine, scheduleStore).start()) {
            // Every schedule's first run is at least this far out, so that creating them all finishes first.
            Instant firstStart = clock.instant().plus(Duration.ofSeconds(20)).plus(options.schedules() < 2_000
                    ? Duration.ZERO : Duration.ofMillis(options.schedules() * 4L));
            long stepNanos = options.every().toNanos() / options.schedules();
            List<String> ids = create(schedules, options, firstStart, stepNanos);
            Instant windowEnd = firstStart.plus(options.measured());
            Report.progress("%d schedules created; runs from %s, measured until %s", ids.size(), firstStart,
                    windowEnd);
            while (clock.instant().isBefore(windowEnd.plusSeconds(5))) {
                Thread.sleep(30_000);
                Report.progress("%d runs so far, lateness p50 %.2f ms p99 %.2f ms max %.2f ms, early %d",
                        deliveries.get(), lateness.getValueAtPercentile(50) / 1000.0,
                        lateness.getValueAtPercentile(99) / 1000.0, lateness.getMaxValue() / 1000.0, early.get());
            }
            // The loop stops first, so that what was delivered is final when it is counted.
            schedules.close();
            // Runs in the window, every schedule: start_i + k * every for start_i + k * every < windowEnd.
            long expected = 0;
            long missed = 0;
            for (int i = 0; i < ids.size(); i++) {
                Instant start = firstStart.plusNanos(stepNanos * i).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
                for (Instant t = start; t.isBefore(windowEnd); t = t.plus(options.every())) {
                    expected++;
                    if (!delivered.contains(ids.get(i) + "@" + t.toEpochMilli())) {
                        missed++;
                    }
                }
            }
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("schedules", options.schedules());
            figures.put("every_s", options.every().toSeconds());
            figures.put("window_s", options.measured().toSeconds());
            figures.put("expected_runs", expected);
            figures.put("runs_per_s", expected / (double) options.measured().toSeconds());
            figures.put("delivered", deliveries.get());
            figures.put("duplicates", deliveries.get() - delivered.size());
            figures.put("missed", missed);
            figures.put("early", early.get());
            figures.putAll(Report.percentilesMs("lateness_", lateness));
            report.result("recurring", figures);
        } finally {
            BenchEngines.delete(dir);
        }
    }

    /** Creates the schedules, 16 at a time, with start times {@code stepNanos} apart. */
    private static List<String> create(RecurringSchedules schedules, Options options, Instant firstStart,
            long stepNanos) throws Exception {
        long began = System.nanoTime();
        List<Future<String>> created = new ArrayList<>(options.schedules());
        try (ExecutorService creators = Executors.newFixedThreadPool(16)) {
            for (int i = 0; i < options.schedules(); i++) {
                int index = i;
                created.add(creators.submit(() -> {
                    Instant start = firstStart.plusNanos(stepNanos * index)
                            .truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
                    ScheduleDefinition every = ScheduleDefinition.every("s" + index, options.every(), "recurring");
                    ScheduleDefinition d = new ScheduleDefinition(every.name(), null, every.every(), null, null,
                            "recurring", null, null, null, null, start, null, null, null, null, null, null);
                    return schedules.create("default", d, false).id();
                }));
            }
            List<String> ids = new ArrayList<>(options.schedules());
            for (Future<String> f : created) {
                ids.add(f.get());
                if (ids.size() % 2_000 == 0) {
                    Report.progress("created %d schedules", ids.size());
                }
            }
            Report.progress("created %d schedules in %.1f s", ids.size(), (System.nanoTime() - began) / 1e9);
            return ids;
        }
    }
}
