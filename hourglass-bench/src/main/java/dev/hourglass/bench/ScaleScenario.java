package dev.hourglass.bench;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * S5, {@code hourglass bench --scenarios scale}: 10^7 pending jobs in SQLite and in PostgreSQL. Opt-in (not in the
 * default list): the full profile loads 10^7 rows into each store.
 *
 * <p>For each store: load the backlog through the store SPI ({@code JobStore.write} + {@code StoreTx.insert} of
 * 10,000 {@link NewJob}s per transaction, durable commits), jobs due 1 to 30 days ahead at random, so none is in the
 * horizon and none fires. At 0 (the empty store) and at 10^4, 10^5, ... up to N pending: the store's size on disk,
 * then two child JVMs on the store, one after the other ({@link ScaleProbe}): a probe (heap and RSS while idle,
 * schedule throughput, lateness at a steady rate, heap and RSS under that load) that ends by scheduling a job due
 * 2 s later and closing its engine, and a restart that times {@code build()} and that job's firing from the moment
 * the probe's engine began to close. The engine runs in its own JVM (options as this one's: {@code -Xmx},
 * {@code -XX:+Use...GC}, plus {@code HOURGLASS_SCALE_CHILD_OPTS}) so its RSS and heap are its own, not the loader's.
 *
 * <p>One RESULT line per (store, checkpoint), one per store, and an SVG plot of throughput and RSS against pending
 * jobs. Scratch SQLite files are deleted and the PostgreSQL schema dropped at the end, as in the other scenarios.
 */
final class ScaleScenario {
    static final int BATCH = 10_000;
    static final long DAY_MS = Duration.ofDays(1).toMillis();
    static final long[] STEPS = {10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L};

    /** Sizes of one run. */
    record Profile(String name, long jobs, int seconds, int lateSeconds, int rate, long idleMs) {
        static Profile of(String name, ScaleOptions o, Integer seconds) {
            boolean smoke = name.equals("smoke");
            boolean quick = name.equals("quick");
            long jobs = o.jobs != null ? o.jobs : smoke ? 10_000 : quick ? 1_000_000 : 10_000_000;
            return new Profile(name, jobs, seconds != null ? seconds : smoke ? 1 : quick ? 3 : 10,
                    smoke ? 2 : 10, o.rate, smoke ? 500 : 2_000);
        }
    }

    /** A store under test: how the loader opens it, how big it is, how a child opens it, how it goes away. */
    interface Target {
        String name();

        JobStore open();

        long diskBytes();

        String diskDetail();

        List<String> probeArgs();

        /** After a load, before the engine runs (PostgreSQL: a CHECKPOINT, so the load's writes land now). */
        void settle();

        void cleanup();
    }

    /** One checkpoint's figures, for the table and the plot. */
    record Row(String store, long pending, double schedPerS, double schedRatio, double lateP99, double heapIdle,
            double rssIdle, double rssLoad, double firstFireMs, double builtMs, double diskMb) {
        Row withRatio(double value) {
            return new Row(store, pending, schedPerS, value, lateP99, heapIdle, rssIdle, rssLoad, firstFireMs, builtMs,
                    diskMb);
        }
    }

    private final Report report;
    private final ScaleOptions options;
    private final Profile profile;
    private final Path dir;
    private final PgServer server;
    private final List<String> childJvm;
    private final List<Row> rows = new ArrayList<>();
    private final List<String> summary = new ArrayList<>();

    ScaleScenario(Report report, ScaleOptions options, String profileName, Integer seconds, Path dir,
            PgServer server) {
        this.report = report;
        this.options = options;
        this.profile = Profile.of(profileName, options, seconds);
        this.dir = dir;
        this.server = server;
        this.childJvm = childJvmOptions();
    }

    void run() {
        ScaleProbe.quiet();
        long t0 = System.nanoTime();
        System.out.printf("S5 scale: %,d pending jobs per store, stores %s, %s profile; per checkpoint: %d callers "
                        + "for %d s, %d fires/s for %d s; engine in a child JVM %s%n", profile.jobs(),
                options.stores, profile.name(), 8, profile.seconds(), profile.rate(), profile.lateSeconds(),
                childJvm);
        for (String store : options.stores) {
            long s0 = System.nanoTime();
            System.out.println("-- " + store);
            try {
                runStore(store);
            } catch (Exception e) {
                Report.progress("%s failed: %s", store, e);
            }
            Report.progress("%s done in %.0f s", store, (System.nanoTime() - s0) / 1e9);
        }
        printTable();
        Path plot = options.plot != null ? options.plot : dir.resolve("bench-scale.svg");
        if (!rows.isEmpty()) {
            try {
                ScalePlot.write(plot, rows);
                System.out.println("Plot written to " + plot.toAbsolutePath());
            } catch (IOException e) {
                Report.progress("could not write the plot to %s: %s", plot, e);
            }
        }
        Report.progress("scale done in %.0f s", (System.nanoTime() - t0) / 1e9);
    }

    private Target target(String store) {
        Target target = switch (store) {
            case "sqlite" -> new SqliteTarget(BenchEngines.scratch(dir, "scale-sqlite"));
            case "postgres" -> new PgTarget(server);
            default -> throw new IllegalArgumentException("unknown --scale-store '" + store
                    + "'; known: sqlite, postgres");
        };
        try {
            target.open().close(); // the schema, so that even the empty store has a size
        } catch (RuntimeException e) {
            target.cleanup();
            throw e;
        }
        return target;
    }

    /**
     * The empty-store baseline runs in a store of its own: its probe schedules tens of thousands of jobs, which in
     * the loaded store would already be more than the first checkpoint. In the loaded store, the jobs a probe
     * schedules (due days ahead, like the backlog) stay and count as pending: the next load tops up to the next
     * checkpoint, so each probe starts at the checkpoint's count.
     */
    private void runStore(String store) throws Exception {
        if (store.equals("postgres")) {
            Report.progress("PostgreSQL %s at %s", server.version(), server.safeUrl());
        }
        double emptyBefore = emptyStore(store);
        List<Long> checkpoints = new ArrayList<>();
        for (long step : STEPS) {
            if (step < profile.jobs()) {
                checkpoints.add(step);
            }
        }
        checkpoints.add(profile.jobs());
        Target target = target(store);
        Map<String, Object> total = new LinkedHashMap<>();
        try {
            Loader loader = new Loader(target, profile.jobs());
            for (long checkpoint : checkpoints) {
                checkpoint(target, loader, checkpoint);
            }
            total.put("store", target.name());
            total.put("loaded", loader.loaded);
            total.put("load_s", loader.seconds);
            total.put("load_rows_per_s", loader.loaded / Math.max(0.001, loader.seconds));
            total.put("pending", loader.pending);
            total.put("disk_mb", target.diskBytes() / 1e6);
        } finally {
            target.cleanup();
        }
        // The empty store once more, after the big one is gone: the two empty figures show how much the machine
        // itself drifted during the run; the ratios below are against their mean.
        double emptyAfter = emptyStore(store);
        double empty = (emptyBefore + emptyAfter) / 2;
        total.put("empty_per_s", empty);
        total.put("empty_before_per_s", emptyBefore);
        total.put("empty_after_per_s", emptyAfter);
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (r.store().equals(store)) {
                rows.set(i, r.withRatio(r.schedPerS() / empty));
                if (r.pending() > 0) {
                    total.put("sched_vs_empty_at_" + r.pending(), r.schedPerS() / empty);
                }
            }
        }
        report.result("scale-store", total);
    }

    /** An empty store of its own: probe and restart; returns schedules/s. */
    private double emptyStore(String store) throws Exception {
        Target empty = target(store);
        try {
            return checkpoint(empty, new Loader(empty, 0), 0);
        } finally {
            empty.cleanup();
        }
    }

    /** Loads up to {@code checkpoint}, measures the store and runs the two children; returns schedules/s. */
    private double checkpoint(Target target, Loader loader, long checkpoint) throws Exception {
        loader.loadUpTo(checkpoint);
        long settleStart = System.nanoTime();
        target.settle();
        double settleS = (System.nanoTime() - settleStart) / 1e9;
        long disk = target.diskBytes();
        Report.progress("%s: %,d pending, %.1f MB on disk (%s)%s", target.name(), loader.pending, disk / 1e6,
                target.diskDetail(), target instanceof PgTarget
                        ? String.format(Locale.ROOT, "; CHECKPOINT took %.1f s", settleS) : "");
        Map<String, String> probe = child(target, "probe", 0);
        long begin = Long.parseLong(probe.get("restart_begin_ms"));
        Map<String, String> restart = child(target, "restart", begin);
        long pendingAtProbe = loader.pending;
        loader.pending += Long.parseLong(probe.get("scheduled_total"));

        double rate = Double.parseDouble(probe.get("sched_per_s"));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("store", target.name());
        f.put("pending", pendingAtProbe);
        f.put("loaded", loader.loaded);
        f.put("load_s", loader.seconds);
        f.put("load_rows_per_s", loader.lastSegmentRate);
        f.put("disk_mb", disk / 1e6);
        f.put("sched_per_s", rate);
        f.put("sched_p50_ms", probe.get("sched_p50_ms"));
        f.put("sched_p99_ms", probe.get("sched_p99_ms"));
        f.put("late_fired", probe.get("late_fired") + "/" + probe.get("late_of"));
        f.put("late_early", probe.get("late_early"));
        f.put("late_p50_ms", probe.get("late_p50_ms"));
        f.put("late_p99_ms", probe.get("late_p99_ms"));
        f.put("late_p99.9_ms", probe.get("late_p99.9_ms"));
        f.put("late_max_ms", probe.get("late_max_ms"));
        f.put("heap_idle_mb", probe.get("idle_heap_mb"));
        f.put("rss_idle_mb", probe.get("idle_rss_mb"));
        f.put("heap_load_max_mb", probe.get("heap_load_max_mb"));
        f.put("rss_load_max_mb", probe.get("rss_load_max_mb"));
        f.put("timer_idle", probe.get("idle_timer"));
        f.put("open_ms", probe.get("open_ms"));
        f.put("build_ms", probe.get("build_ms"));
        f.put("close_ms", probe.get("close_ms"));
        f.put("restart_jvm_ms", restart.get("jvm_start_ms"));
        f.put("restart_main_ms", restart.get("main_ms"));
        f.put("restart_opened_ms", restart.get("opened_ms"));
        f.put("restart_built_ms", restart.get("built_ms"));
        f.put("restart_first_fire_ms", restart.get("first_fire_ms"));
        f.put("restart_fire_late_ms", restart.get("first_fire_late_ms"));
        f.put("restart_heap_idle_mb", restart.get("idle_heap_mb"));
        f.put("restart_rss_idle_mb", restart.get("idle_rss_mb"));
        report.result("scale", f);
        rows.add(new Row(target.name(), pendingAtProbe, rate, Double.NaN, Double.parseDouble(probe.get("late_p99_ms")),
                Double.parseDouble(probe.get("idle_heap_mb")), Double.parseDouble(probe.get("idle_rss_mb")),
                Double.parseDouble(probe.get("rss_load_max_mb")), Double.parseDouble(restart.get("first_fire_ms")),
                Double.parseDouble(restart.get("built_ms")), disk / 1e6));
        return rate;
    }

    /** Builds the backlog in the store through the SPI; keeps count of what is pending. */
    private final class Loader {
        private final Target target;
        private final long total;
        private final SplittableRandom random = new SplittableRandom(42);
        long loaded;
        long pending;
        double seconds;
        double lastSegmentRate;
        private long nextProgress;

        Loader(Target target, long total) {
            this.target = target;
            this.total = total;
            this.nextProgress = Math.max(1, total / 10);
        }

        void loadUpTo(long checkpoint) {
            long rowsToLoad = checkpoint - pending;
            if (rowsToLoad <= 0) {
                return;
            }
            long t0 = System.nanoTime();
            try (JobStore store = target.open()) {
                InstantSource wall = InstantSource.system();
                // The lo half of an id only needs to be unguessable in production; a seeded generator keeps
                // SecureRandom's cost out of the load of 10^7 ids.
                JobIdGenerator ids = new JobIdGenerator(wall, new SplittableRandom(random.nextLong()));
                store.lastJobId().ifPresent(last -> ids.advancePast(last.hi()));
                long left = rowsToLoad;
                while (left > 0) {
                    int n = (int) Math.min(BATCH, left);
                    Instant now = wall.instant();
                    long nowMs = now.toEpochMilli();
                    List<NewJob> batch = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        Instant due = Instant.ofEpochMilli(nowMs + DAY_MS + random.nextLong(29 * DAY_MS));
                        batch.add(new NewJob(ids.next(), "default", ScaleProbe.BACKLOG_HANDLER, null,
                                ScaleProbe.PAYLOAD, due, now, 5, Backoff.DEFAULT, null, null, null, null, null));
                    }
                    store.write(Durability.FSYNC, tx -> tx.insert(batch));
                    left -= n;
                    loaded += n;
                    pending += n;
                    if (loaded >= nextProgress) {
                        double s = seconds + (System.nanoTime() - t0) / 1e9;
                        Report.progress("%s: loaded %,d of %,d (%.0f %%) in %.1f s, %,.0f rows/s", target.name(),
                                loaded, total, 100.0 * loaded / total, s, loaded / s);
                        while (nextProgress <= loaded) {
                            nextProgress += Math.max(1, total / 10);
                        }
                    }
                }
            } // closing the store is part of the load: SQLite checkpoints its WAL into the file
            double s = (System.nanoTime() - t0) / 1e9;
            seconds += s;
            lastSegmentRate = rowsToLoad / s;
        }
    }

    /** Runs {@link ScaleProbe} in a child JVM; forwards its progress lines and returns its PROBE figures. */
    private Map<String, String> child(Target target, String mode, long restartBeginMs) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(childJvm);
        cmd.add("--enable-native-access=ALL-UNNAMED"); // sqlite-jdbc loads its native library (the jar's manifest
        // says so for java -jar; a -cp launch needs it on the command line)
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ScaleProbe.class.getName(),
                "--mode", mode, "--callers", "8", "--seconds", String.valueOf(profile.seconds()),
                "--warmup-ms", profile.name().equals("smoke") ? "300" : "1000",
                "--rate", String.valueOf(profile.rate()), "--late-seconds", String.valueOf(profile.lateSeconds()),
                "--idle-ms", String.valueOf(profile.idleMs()), "--restart-begin-ms", String.valueOf(restartBeginMs)));
        cmd.addAll(target.probeArgs());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, String> figures = new LinkedHashMap<>();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("PROBE ")) {
                    for (String kv : line.substring(6).split(" ")) {
                        int eq = kv.indexOf('=');
                        figures.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                } else {
                    System.out.println("  " + mode + " " + line.stripLeading());
                }
            }
        }
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(mode + " child did not exit");
        }
        if (p.exitValue() != 0 || figures.isEmpty()) {
            throw new IllegalStateException(mode + " child failed (exit " + p.exitValue() + ")");
        }
        return figures;
    }

    /** The heap limit and collector this JVM runs with (bin/hourglass's), plus HOURGLASS_SCALE_CHILD_OPTS. */
    private static List<String> childJvmOptions() {
        List<String> opts = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Xmx") || a.startsWith("-Xms") || a.matches("-XX:[+-]Use\\w*GC")) {
                opts.add(a);
            }
        }
        if (opts.stream().noneMatch(a -> a.startsWith("-Xmx"))) {
            opts.add("-Xmx1g");
        }
        String extra = System.getenv("HOURGLASS_SCALE_CHILD_OPTS");
        if (extra != null && !extra.isBlank()) {
            opts.addAll(List.of(extra.trim().split("\\s+")));
        }
        return opts;
    }

    private void printTable() {
        if (rows.isEmpty()) {
            return;
        }
        System.out.println();
        System.out.println("| Store | Pending | Disk MB | Schedules/s (vs mean empty) | Lateness p99 ms | Heap idle MB "
                + "| RSS idle / load MB | Restart: build() / first fire s |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        List<Row> sorted = new ArrayList<>(rows);
        sorted.sort(java.util.Comparator.comparingInt((Row r) -> options.stores.indexOf(r.store()))
                .thenComparingLong(Row::pending)); // stable: the empty store before, then after
        for (Row r : sorted) {
            System.out.printf(Locale.ROOT, "| %s | %,d | %.0f | %,.0f (%.2f) | %.2f | %.0f | %.0f / %.0f | %.2f / %.2f |%n",
                    r.store(), r.pending(), r.diskMb(), r.schedPerS(), r.schedRatio(), r.lateP99(), r.heapIdle(),
                    r.rssIdle(), r.rssLoad(), r.builtMs() / 1000, r.firstFireMs() / 1000);
        }
        System.out.println();
        System.out.println("Targets at the largest size per store (heap <= 512 MB and RSS <= 1 GB idle; schedules "
                + ">= 70 % of empty; lateness p99 <= 10 ms; first fire <= 5 s after the restart began):");
        for (String store : options.stores) {
            Row last = null;
            for (Row r : rows) {
                if (r.pending() == 0) {
                    continue;
                }
                if (r.store().equals(store)) {
                    last = r;
                }
            }
            if (last == null) {
                continue;
            }
            System.out.printf(Locale.ROOT, "  %s at %,d: heap %.0f MB %s, RSS %.0f MB %s, schedules %.0f %% of empty "
                            + "%s, p99 %.2f ms %s, first fire %.2f s %s%n", store, last.pending(), last.heapIdle(),
                    ok(last.heapIdle() <= 512), last.rssIdle(), ok(last.rssIdle() <= 1024), 100 * last.schedRatio(),
                    ok(last.schedRatio() >= 0.7), last.lateP99(), ok(last.lateP99() <= 10),
                    last.firstFireMs() / 1000, ok(last.firstFireMs() >= 0 && last.firstFireMs() <= 5_000));
        }
    }

    private static String ok(boolean met) {
        return met ? "(met)" : "(MISSED)";
    }

    // ---------------------------------------------------------------------------------------------------------

    /** A SQLite file in a scratch directory, deleted at the end. */
    private static final class SqliteTarget implements Target {
        private final Path scratch;
        private final Path file;

        SqliteTarget(Path scratch) {
            this.scratch = scratch;
            this.file = scratch.resolve("hourglass.db");
        }

        @Override
        public String name() {
            return "sqlite";
        }

        @Override
        public JobStore open() {
            return SqliteJobStore.open(file);
        }

        /** The database file, its WAL and shared-memory index, as they are with no store open. */
        @Override
        public long diskBytes() {
            return size(file) + size(wal()) + size(Path.of(file + "-shm"));
        }

        @Override
        public String diskDetail() {
            return String.format(Locale.ROOT, "file %.1f MB + WAL %.1f MB", size(file) / 1e6, size(wal()) / 1e6);
        }

        private Path wal() {
            return Path.of(file + "-wal");
        }

        private static long size(Path p) {
            try {
                return Files.exists(p) ? Files.size(p) : 0;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public List<String> probeArgs() {
            return List.of("--store", "sqlite", "--file", file.toString());
        }

        @Override
        public void settle() {}

        @Override
        public void cleanup() {
            BenchEngines.delete(scratch);
        }
    }

    /** A fresh schema on the PostgreSQL server, dropped at the end. */
    private static final class PgTarget implements Target {
        private final PgServer server;
        private final String schema;

        PgTarget(PgServer server) {
            this.server = server;
            server.version(); // fails at once, naming the server, when it cannot be reached
            this.schema = PgServer.schemaName("scale");
            server.createSchema(schema);
        }

        @Override
        public String name() {
            return "postgres";
        }

        @Override
        public JobStore open() {
            return PostgresJobStore.open(PostgresOptions.of(server.jdbcUrl(), server.user(), server.password())
                    .withSchema(schema));
        }

        /** pg_total_relation_size of the jobs table: heap, TOAST and every index. */
        @Override
        public long diskBytes() {
            return query("SELECT pg_total_relation_size('" + schema + ".jobs')");
        }

        @Override
        public String diskDetail() {
            return String.format(Locale.ROOT, "table %.1f MB + indexes %.1f MB",
                    query("SELECT pg_table_size('" + schema + ".jobs')") / 1e6,
                    query("SELECT pg_indexes_size('" + schema + ".jobs')") / 1e6);
        }

        private long query(String sql) {
            try (Connection c = server.connect(null); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(sql)) {
                return rs.next() ? rs.getLong(1) : 0;
            } catch (SQLException e) {
                throw new IllegalStateException(sql + ": " + e.getMessage(), e);
            }
        }

        @Override
        public List<String> probeArgs() {
            return List.of("--store", "postgres", "--jdbc-url", server.jdbcUrl(), "--db-user", server.user(),
                    "--schema", schema);
        }

        @Override
        public void settle() {
            server.checkpoint();
        }

        @Override
        public void cleanup() {
            server.dropSchema(schema);
        }
    }
}
