package dev.hourglass.bench;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.Scheduling;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.store.InsertResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Loading many jobs at once, three ways, on each store, one sitting: {@code scheduleAll} of {@code count} jobs in one
 * call; the same number of {@code scheduleAsync} calls joined at the end; and the same number of blocking
 * {@code schedule} calls from {@code callers} threads (S1's way). The jobs are due in an hour, so nothing fires while
 * they load; each way gets a fresh store and an unmeasured load of a tenth first. The rate is jobs / wall time from
 * the first call to the last durable result.
 */
final class BatchSchedule {
    private static final byte[] PAYLOAD = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

    private BatchSchedule() {}

    static void run(Report report, Path workDir, int count, int callers, PgServer postgres) throws Exception {
        List<String> stores = postgres != null ? List.of("sqlite", "postgres") : List.of("sqlite");
        for (String storeName : stores) {
            for (String way : List.of("scheduleAll", "scheduleAsync", "schedule")) {
                try (DrainStore store = storeName.equals("sqlite") ? DrainStore.sqlite(workDir, "batch-" + way)
                        : DrainStore.postgres(postgres, "batch")) {
                    try (Hourglass engine = BenchEngines.engine(store.open(), ctx -> Outcome.succeeded(),
                            EngineMetrics.NOOP, 64, "noop", true)) {
                        load(engine, way, Math.max(1, count / 10), callers); // warm-up, unmeasured
                        long t0 = System.nanoTime();
                        int created = load(engine, way, count, callers);
                        double seconds = (System.nanoTime() - t0) / 1e9;
                        Map<String, Object> figures = new LinkedHashMap<>();
                        figures.put("store", storeName);
                        figures.put("way", way);
                        figures.put("jobs", count);
                        figures.put("created", created);
                        figures.put("seconds", seconds);
                        figures.put("per_s", count / seconds);
                        if (way.equals("schedule")) {
                            figures.put("callers", callers);
                        }
                        Report.progress("%s %s: %,.0f jobs/s", storeName, way, count / seconds);
                        report.result("batch-" + storeName + "-" + way, figures);
                    }
                }
            }
        }
    }

    /** Schedules {@code n} jobs {@code way}; returns how many were created. */
    private static int load(Hourglass engine, String way, int n, int callers) throws Exception {
        When inAnHour = When.after(Duration.ofHours(1));
        return switch (way) {
            case "scheduleAll" -> {
                List<Scheduling> jobs = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    jobs.add(new Scheduling(JobRequest.of("noop", PAYLOAD), inAnHour));
                }
                yield (int) engine.scheduleAll(jobs).stream().filter(r -> r instanceof InsertResult.Created).count();
            }
            case "scheduleAsync" -> {
                List<CompletableFuture<InsertResult>> futures = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    futures.add(engine.scheduleAsync(JobRequest.of("noop", PAYLOAD), inAnHour));
                }
                yield (int) futures.stream().map(CompletableFuture::join)
                        .filter(r -> r instanceof InsertResult.Created).count();
            }
            case "schedule" -> {
                ExecutorService pool = Executors.newFixedThreadPool(callers);
                try {
                    List<Future<Integer>> parts = new ArrayList<>();
                    for (int c = 0; c < callers; c++) {
                        int share = n / callers + (c < n % callers ? 1 : 0);
                        parts.add(pool.submit(() -> {
                            int made = 0;
                            for (int i = 0; i < share; i++) {
                                made += engine.schedule(JobRequest.of("noop", PAYLOAD), inAnHour)
                                        instanceof InsertResult.Created ? 1 : 0;
                            }
                            return made;
                        }));
                    }
                    int made = 0;
                    for (Future<Integer> part : parts) {
                        made += part.get();
                    }
                    yield made;
                } finally {
                    pool.shutdown();
                }
            }
            default -> throw new IllegalArgumentException(way);
        };
    }
}
