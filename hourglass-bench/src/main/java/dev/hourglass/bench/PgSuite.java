package dev.hourglass.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code hourglass bench --scenarios postgres}: Hourglass and its peers on the same PostgreSQL server, with the same
 * workload, one after another: PostgreSQL alone on Hourglass's table (the ceiling), then each system through S1
 * (durable schedules), S2 (drain of jobs due at once) and S3 (lateness at a steady rate). Every scenario of every
 * system runs in a fresh schema that is dropped afterwards, after a CHECKPOINT, so no system pays for another's
 * writes. Ends with one table of figures and the ratios.
 */
final class PgSuite {
    static final Map<String, Contender> CONTENDERS = contenders();

    private final Report report;
    private final PgServer server;
    private final PgSuiteConfig config;

    PgSuite(Report report, PgServer server, PgSuiteConfig config) {
        this.report = report;
        this.server = server;
        this.config = config;
    }

    private static Map<String, Contender> contenders() {
        Map<String, Contender> m = new LinkedHashMap<>();
        for (Contender c : List.of(HourglassOnPg.contender(1), HourglassOnPg.contender(2),
                DbSchedulerOnPg.defaultPolling(), DbSchedulerOnPg.lockAndFetch(), QuartzOnPg.contender())) {
            m.put(c.id(), c);
        }
        return m;
    }

    /** Runs the suite and prints its table; returns the figures of every system (not the limit), in order. */
    List<PgFigures.OfSystem> run() {
        QuietLogs.forPostgresSuite();
        System.out.printf("PostgreSQL suite on %s (PostgreSQL %s): %s profile; S1 %d callers for %d s; S2 %,d jobs "
                        + "(slow systems %,d), deadline %d s; S3 %,d jobs over %d s%n", server.safeUrl(),
                server.version(), config.profile(), config.callers(), config.scheduleFor().toSeconds(),
                config.drainJobs(), config.slowDrainJobs(), config.drainDeadline().toSeconds(),
                config.latenessJobs(), config.latenessWindow().toSeconds());
        PgFigures.Limit limit = null;
        List<PgFigures.OfSystem> results = new ArrayList<>();
        for (String id : config.systems()) {
            long t0 = System.nanoTime();
            if (id.equals("limit")) {
                System.out.println("-- PostgreSQL alone on Hourglass's table");
                try {
                    limit = PgLimit.run(report, server, config.limitLoop());
                } catch (Exception e) {
                    Report.progress("limit failed: %s", e);
                }
            } else {
                Contender c = CONTENDERS.get(id);
                System.out.println("-- " + c.label() + ": " + c.config());
                results.add(runSystem(c));
            }
            Report.progress("%s done in %.0f s", id, (System.nanoTime() - t0) / 1e9);
        }
        new PgTable(config, limit, results).print(System.out);
        return results;
    }

    private PgFigures.OfSystem runSystem(Contender c) {
        List<String> errors = new ArrayList<>();
        PgFigures.Schedule s1 = scenario(c, "s1", errors, (system, firings) ->
                PgScheduleThroughput.run(report, c, system, config.callers(), config.scheduleFor()));
        int drainJobs = c.slow() ? Math.min(config.slowDrainJobs(), config.drainJobs()) : config.drainJobs();
        PgFigures.Drain s2 = scenario(c, "s2", errors, (system, firings) ->
                PgDrain.run(report, c, system, firings, drainJobs, config.drainDeadline()));
        double preloadRate = s2 != null ? s2.jobs() / Math.max(0.001, s2.preloadSeconds()) : 500;
        PgFigures.Lateness s3 = scenario(c, "s3", errors, (system, firings) ->
                PgLateness.run(report, c, system, firings, config.latenessJobs(), config.latenessWindow(),
                        config.latenessGrace(), preloadRate));
        return new PgFigures.OfSystem(c, s1, s2, s3, errors.isEmpty() ? null : String.join("; ", errors));
    }

    @FunctionalInterface
    private interface Body<T> {
        T run(PgSystem system, Firings firings) throws Exception;
    }

    /** One scenario of one system in a fresh schema; a failure is reported and the suite goes on. */
    private <T> T scenario(Contender c, String name, List<String> errors, Body<T> body) {
        String schema = PgServer.schemaName(c.id() + "_" + name);
        server.createSchema(schema);
        try {
            server.checkpoint();
            Firings firings = new Firings(c.nodes());
            try (PgSystem system = c.opener().open(server, schema, firings)) {
                return body.run(system, firings);
            }
        } catch (Exception | AssertionError e) {
            Report.progress("%s %s failed: %s", c.id(), name, e);
            errors.add(name + ": " + e.getMessage());
            return null;
        } finally {
            server.dropSchema(schema);
        }
    }
}
