package dev.hourglass.bench;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The plots the bench writes next to its figures (SVG, see {@link SvgChart}): the lateness distribution of the
 * library S3 per rate, and of the PostgreSQL S3 per system; the PostgreSQL S1/S2 throughput per system. File names
 * are fixed (bench-*.svg) so a run can refresh the copies under docs/ with {@code --plots docs}.
 */
final class BenchPlots {
    static final String LIBRARY_LATENESS = "bench-lateness-library.svg";
    static final String PG_LATENESS = "bench-pg-lateness.svg";
    static final String PG_THROUGHPUT = "bench-pg-throughput.svg";
    /** The S3 targets, drawn as markers. */
    static final List<SvgChart.Mark> TARGETS = List.of(
            new SvgChart.Mark(99, PgTable.TARGET_P99_MS, "targets: p99 <= 10 ms, p99.9 <= 25 ms"),
            new SvgChart.Mark(99.9, PgTable.TARGET_P999_MS, ""));

    private BenchPlots() {}

    static void libraryLateness(Path dir, String profile, List<LatenessAtSteadyRate.Result> results) {
        List<SvgChart.Series> series = new ArrayList<>();
        for (LatenessAtSteadyRate.Result r : results) {
            series.add(SvgChart.curve(String.format(Locale.ROOT, "%,d fires/s: %,d measured, %d early, max %s ms",
                    r.rate(), r.measured(), r.early(), ms(r.micros().getMaxValue() / 1000.0)), r.micros(), 99.9));
        }
        write(dir, LIBRARY_LATENESS, SvgChart.percentiles("S3 lateness at steady rates, library mode on SQLite",
                subtitle(profile, "handler start - due time; jobs due 2 s after their schedule call"), series,
                TARGETS, 99.9));
    }

    static void pgLateness(Path dir, PgSuiteConfig config, List<PgFigures.OfSystem> systems) {
        List<SvgChart.Series> series = new ArrayList<>();
        for (PgFigures.OfSystem s : systems) {
            PgFigures.Lateness l = s.lateness();
            if (l != null && l.micros() != null) {
                series.add(SvgChart.curve(String.format(Locale.ROOT, "%s: %,d of %,d fired, %d early, max %s ms",
                        s.contender().label(), l.fired(), l.jobs(), l.early(), ms(l.maxMs())), l.micros(), 99.9));
            }
        }
        if (series.isEmpty()) {
            return;
        }
        write(dir, PG_LATENESS, SvgChart.percentiles(String.format(Locale.ROOT,
                "S3 lateness on PostgreSQL: %,d jobs over %d s per system", config.latenessJobs(),
                config.latenessWindow().toSeconds()), subtitle(config.profile(),
                "handler start - due time, measured alike in every system's handler"), series, TARGETS, 99.9));
    }

    static void pgThroughput(Path dir, PgSuiteConfig config, List<PgFigures.OfSystem> systems) {
        if (systems.isEmpty()) {
            return;
        }
        List<String> groups = new ArrayList<>();
        double[][] values = new double[2][systems.size()];
        for (int i = 0; i < systems.size(); i++) {
            PgFigures.OfSystem s = systems.get(i);
            groups.add(s.contender().label().replaceFirst(", ", "\n"));
            values[0][i] = s.schedule() != null ? s.schedule().perSecond() : Double.NaN;
            values[1][i] = s.drain() != null ? s.drain().perSecond() : Double.NaN;
        }
        write(dir, PG_THROUGHPUT, SvgChart.bars("S1 and S2 throughput on PostgreSQL, per system",
                subtitle(config.profile(), "one PostgreSQL server, one system at a time"), "jobs per second", groups,
                List.of(String.format(Locale.ROOT, "S1 durable schedules/s (%d callers)", config.callers()),
                        String.format(Locale.ROOT, "S2 drain jobs/s (%,d due at once; slow systems %,d)",
                                config.drainJobs(), config.slowDrainJobs())), values));
    }

    private static String subtitle(String profile, String what) {
        return String.format(Locale.ROOT, "%s; %s profile, %d cores, JDK %s, %s", what, profile,
                Runtime.getRuntime().availableProcessors(), Runtime.version().feature(), LocalDate.now());
    }

    private static void write(Path dir, String name, String svg) {
        Path file = SvgChart.write(dir.resolve(name), svg);
        Report.progress("plot written: %s", file);
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%,.0f" : "%.2f", v);
    }
}
