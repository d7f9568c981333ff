package dev.hourglass.bench;

import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.metrics.HourglassMetrics;
import dev.hourglass.store.sqlite.SqliteJobStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What a scrape costs with a large store: {@code jobs} pending jobs of {@code tenants} tenants in SQLite (1 % due
 * within the hour, the rest 1 to 30 days ahead), an engine with the meters on it, then the two background samples
 * of the pending-jobs gauges (the jobs due within the hour, and all jobs) and {@code /metrics}'s scrape of the
 * registry, timed apart. The scrape reads only the registry, so its time should not grow with the store; the sample
 * of the hour grows with that hour's jobs, the sample of all jobs with the store.
 */
final class MetricsScrape {
    private static final int SCRAPES = 20;
    private static final int BATCH = 10_000;
    private static final byte[] PAYLOAD = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

    private MetricsScrape() {}

    static void run(Report report, Path workDir, long jobs, int tenants) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "metrics-scrape");
        try {
            load(dir, jobs, tenants);
            for (int labels : new int[] {HourglassMetrics.DEFAULT_TENANT_LABELS, tenants}) {
                report.result("metrics-scrape", measure(dir, jobs, tenants, labels));
            }
        } finally {
            BenchEngines.delete(dir);
        }
    }

    private static void load(Path dir, long jobs, int tenants) {
        long t0 = System.nanoTime();
        SplittableRandom random = new SplittableRandom(42);
        try (JobStore store = SqliteJobStore.open(dir.resolve("hourglass.db"))) {
            InstantSource wall = InstantSource.system();
            JobIdGenerator ids = new JobIdGenerator(wall, new SplittableRandom(7));
            long loaded = 0;
            long nextProgress = Math.max(1, jobs / 10);
            long day = Duration.ofDays(1).toMillis();
            while (loaded < jobs) {
                int n = (int) Math.min(BATCH, jobs - loaded);
                Instant now = wall.instant();
                List<NewJob> batch = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    // 1 % due within the hour (beyond the horizon, so the engine leaves them in the store).
                    long ahead = random.nextInt(100) == 0 ? Duration.ofMinutes(2).toMillis()
                            + random.nextLong(Duration.ofMinutes(57).toMillis()) : day + random.nextLong(29 * day);
                    Instant due = Instant.ofEpochMilli(now.toEpochMilli() + ahead);
                    batch.add(new NewJob(ids.next(), "tenant-" + ((loaded + i) % tenants), "noop", null, PAYLOAD,
                            due, now, 5, Backoff.DEFAULT, null, null, null, null, null));
                }
                store.write(Durability.LAZY, tx -> tx.insert(batch));
                loaded += n;
                if (loaded >= nextProgress) {
                    Report.progress("metrics-scrape: loaded %,d of %,d pending jobs (%d tenants) in %.0f s", loaded,
                            jobs, tenants, (System.nanoTime() - t0) / 1e9);
                    nextProgress += Math.max(1, jobs / 10);
                }
            }
        }
    }

    private static Map<String, Object> measure(Path dir, long jobs, int tenants, int labels) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HourglassMetrics metrics = HourglassMetrics.builder(registry).tenantLabels(labels)
                .pendingEvery(Duration.ofDays(1)) // sampled below, on this thread, not in the background
                .build();
        try (Hourglass engine = Hourglass.builder()
                .store(SqliteJobStore.open(dir.resolve("hourglass.db")))
                .config(EngineConfig.builder("bench").build())
                .metrics(metrics)
                .handler("noop", ctx -> Outcome.succeeded())
                .build()) {
            long t0 = System.nanoTime();
            metrics.samplePending(false);
            double nearMs = (System.nanoTime() - t0) / 1e6;
            long t1 = System.nanoTime();
            metrics.samplePending(true);
            double allMs = (System.nanoTime() - t1) / 1e6;
            Report.progress("metrics-scrape: %d tenant labels: pending sample of the next hour %.0f ms, of all jobs "
                    + "%.0f ms", labels, nearMs, allMs);
            registry.scrape(); // the first one builds the writer's caches
            List<Double> scrapes = new ArrayList<>();
            int bytes = 0;
            for (int i = 0; i < SCRAPES; i++) {
                long s0 = System.nanoTime();
                bytes = registry.scrape().getBytes(StandardCharsets.UTF_8).length;
                scrapes.add((System.nanoTime() - s0) / 1e6);
            }
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("pending_jobs", jobs);
            figures.put("tenants", tenants);
            figures.put("tenant_labels", labels);
            figures.put("series", registry.getPrometheusRegistry().scrape().stream()
                    .mapToInt(s -> s.getDataPoints().size()).sum());
            figures.put("scrape_bytes", bytes);
            figures.put("scrape_p50_ms", MetricsCost.median(scrapes));
            figures.put("scrape_max_ms", scrapes.stream().mapToDouble(Double::doubleValue).max().orElse(0));
            figures.put("pending_sample_near_ms", nearMs);
            figures.put("pending_sample_all_ms", allMs);
            return figures;
        } finally {
            registry.close();
        }
    }
}
