package dev.hourglass.bench;

import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Work spread across nodes (issue 20): {@code jobs} no-op jobs due evenly over 30 s, written unclaimed into a fresh
 * PostgreSQL schema, then three nodes (engines in this JVM, each with a store of its own, as processes would have)
 * started one after another: node a at once, b {@code joinSeconds} later, c as much after b. Reports how long each
 * node's {@code build()} took, the claims each node held every second, the share of the jobs each node fired, and
 * the lateness (handler start minus due time) of all jobs and of those due in the seconds after each join.
 */
final class WorkSpread {
    private static final String HANDLER = "noop";
    private static final byte[] PAYLOAD = HourglassOnPg.PAYLOAD;
    private static final int NODES = 3;
    private static final int PRELOAD_BATCH = 5_000;
    /** The jobs come due from this long after the preload began, for this long. */
    private static final Duration FIRST_DUE = Duration.ofSeconds(10);
    private static final Duration SPREAD = Duration.ofSeconds(30);
    /** Jobs due within this long after a node joined count as due "while it joins". */
    private static final Duration JOINING = Duration.ofSeconds(3);

    private WorkSpread() {}

    static void run(Report report, PgServer server, int jobs, int joinSeconds) throws Exception {
        String schema = PgServer.schemaName("spread");
        server.createSchema(schema);
        PostgresJobStore[] stores = new PostgresJobStore[NODES];
        Hourglass[] nodes = new Hourglass[NODES];
        LongAdder[] fired = new LongAdder[NODES];
        Recorder all = new Recorder(3);
        Recorder[] joining = new Recorder[NODES];
        Recorder[] byNode = new Recorder[NODES];
        long[] joinedAt = new long[NODES];
        // The worst lateness of the jobs due in each second of the spread, to see when jobs were late.
        AtomicLongArray worstBySecond = new AtomicLongArray((int) SPREAD.toSeconds() + 1);
        Instant first = Instant.now().plus(FIRST_DUE);
        try {
            for (int i = 0; i < NODES; i++) {
                stores[i] = PostgresJobStore.open(PostgresOptions.of(server.jdbcUrl(), server.user(),
                        server.password()).withSchema(schema));
                fired[i] = new LongAdder();
                joining[i] = new Recorder(3);
                byNode[i] = new Recorder(3);
                joinedAt[i] = Long.MAX_VALUE;
            }
            preload(stores[0], first, jobs);
            Report.progress("spread: %,d jobs due from %s over %d s written", jobs, first, SPREAD.toSeconds());

            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("jobs", jobs);
            figures.put("join_s", joinSeconds);
            Map<String, Map<String, Long>> claimsOverTime = new TreeMap<>();
            long startNanos = System.nanoTime();
            for (int i = 0; i < NODES; i++) {
                if (i > 0) {
                    sampleUntil(server, schema, startNanos, startNanos + TimeUnit.SECONDS.toNanos((long) joinSeconds * i),
                            claimsOverTime);
                }
                int node = i;
                long built = System.nanoTime();
                joinedAt[i] = System.currentTimeMillis();
                nodes[i] = Hourglass.builder()
                        .store(stores[i])
                        .config(EngineConfig.defaults(name(i)))
                        .handler(HANDLER, ctx -> {
                            long late = System.currentTimeMillis() - ctx.dueAt().toEpochMilli();
                            long lateMicros = Math.max(0, late * 1_000);
                            all.recordValue(lateMicros);
                            byNode[node].recordValue(lateMicros);
                            int second = (int) ((ctx.dueAt().toEpochMilli() - first.toEpochMilli()) / 1_000);
                            if (second >= 0 && second < worstBySecond.length()) {
                                worstBySecond.accumulateAndGet(second, late, Math::max);
                            }
                            for (int j = 0; j < NODES; j++) {
                                long due = ctx.dueAt().toEpochMilli();
                                if (due >= joinedAt[j] && due < joinedAt[j] + JOINING.toMillis()) {
                                    joining[j].recordValue(lateMicros);
                                }
                            }
                            fired[node].increment();
                            return Outcome.succeeded();
                        })
                        .build();
                double buildMs = (System.nanoTime() - built) / 1e6;
                figures.put("build_ms_" + name(i), Math.round(buildMs));
                Report.progress("spread: node %s built in %.0f ms", name(i), buildMs);
            }
            long endNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                    first.plus(SPREAD).toEpochMilli() - System.currentTimeMillis()) + TimeUnit.SECONDS.toNanos(5);
            sampleUntil(server, schema, startNanos, endNanos, claimsOverTime);
            long total = 0;
            for (int i = 0; i < NODES; i++) {
                total += fired[i].sum();
            }
            for (int i = 0; i < NODES; i++) {
                figures.put("fired_" + name(i), fired[i].sum());
                figures.put("share_" + name(i), total == 0 ? 0 : (double) fired[i].sum() / total);
            }
            figures.put("fired", total);
            figures.putAll(Report.percentilesMs("late_", all.getIntervalHistogram()));
            for (int i = 0; i < NODES; i++) {
                Histogram h = byNode[i].getIntervalHistogram();
                figures.put("late_" + name(i) + "_p99_ms", h.getValueAtPercentile(99) / 1e3);
                figures.put("late_" + name(i) + "_max_ms", h.getMaxValue() / 1e3);
            }
            for (int i = 1; i < NODES; i++) {
                Histogram h = joining[i].getIntervalHistogram();
                figures.putAll(Report.percentilesMs("late_joining_" + name(i) + "_", h));
            }
            claimsOverTime.forEach((second, claims) -> Report.progress("spread: claims at +%s s: %s", second, claims));
            long firstDueSecond = (first.toEpochMilli() - joinedAt[0]) / 1_000;
            for (int second = 0; second < worstBySecond.length(); second++) {
                Report.progress("spread: jobs due at +%d s (node a's start +%d s): worst %d ms late", second,
                        firstDueSecond + second, worstBySecond.get(second));
            }
            report.result("spread", figures);
        } finally {
            for (int i = 0; i < NODES; i++) {
                if (nodes[i] != null) {
                    nodes[i].close();
                } else if (stores[i] != null) {
                    stores[i].close();
                }
            }
            server.dropSchema(schema);
        }
    }

    private static String name(int node) {
        return String.valueOf((char) ('a' + node));
    }

    private static void preload(PostgresJobStore store, Instant first, int jobs) {
        InstantSource wall = InstantSource.system();
        JobIdGenerator ids = new JobIdGenerator(wall);
        for (int from = 0; from < jobs; from += PRELOAD_BATCH) {
            List<NewJob> batch = new ArrayList<>(PRELOAD_BATCH);
            Instant now = wall.instant();
            for (int i = from; i < Math.min(jobs, from + PRELOAD_BATCH); i++) {
                Instant due = first.plusMillis(i * SPREAD.toMillis() / jobs);
                batch.add(new NewJob(ids.next(), "default", HANDLER, null, PAYLOAD, due, now, 5, Backoff.DEFAULT,
                        null, null, null, null, null));
            }
            store.write(Durability.FSYNC, tx -> tx.insert(batch));
        }
    }

    /** Every second until {@code untilNanos}: the SCHEDULED claims each node holds, keyed by seconds since start. */
    private static void sampleUntil(PgServer server, String schema, long startNanos, long untilNanos,
            Map<String, Map<String, Long>> samples) throws SQLException, InterruptedException {
        try (Connection connection = server.connect(schema)) {
            while (System.nanoTime() < untilNanos) {
                Map<String, Long> claims = new TreeMap<>();
                try (Statement select = connection.createStatement();
                        ResultSet rs = select.executeQuery("SELECT coalesce(owner, '-'), count(*) FROM jobs "
                                + "WHERE state = 'SCHEDULED' GROUP BY owner")) {
                    while (rs.next()) {
                        claims.put(rs.getString(1), rs.getLong(2));
                    }
                }
                samples.put(String.format("%05.1f", (System.nanoTime() - startNanos) / 1e9), claims);
                Thread.sleep(Math.max(1, Math.min(1_000, TimeUnit.NANOSECONDS.toMillis(untilNanos - System.nanoTime()))));
            }
        }
    }
}
