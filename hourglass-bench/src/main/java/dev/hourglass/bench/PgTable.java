package dev.hourglass.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The closing table of the PostgreSQL suite, in Markdown (it goes into docs/benchmarks.md as printed): the figures
 * of every system, PostgreSQL's own ceiling, Hourglass against each peer, and the targets of the issue.
 */
record PgTable(PgSuiteConfig config, PgFigures.Limit limit, List<PgFigures.OfSystem> systems) {
    static final double TARGET_S1_RATIO = 5;
    static final double TARGET_S2_RATIO = 5;
    static final double TARGET_P99_MS = 10;
    static final double TARGET_P999_MS = 25;

    void print(PrintStream out) {
        out.println();
        out.println("=== PostgreSQL suite: " + config.profile() + " profile ===");
        out.println();
        out.printf("| System | S1 schedules/s (%d callers) | S1 latency p50 / p99 ms | S2 drain jobs/s | S2 jobs "
                + "(executed) | S3 lateness p50 / p99 / p99.9 / max ms | S3 early | S3 fired |%n", config.callers());
        out.println("|---|---|---|---|---|---|---|---|");
        for (PgFigures.OfSystem s : systems) {
            out.println(row(s));
        }
        out.println();
        if (limit != null) {
            out.printf("PostgreSQL alone on Hourglass's table, 1 connection, %,d rows per statement: insert %s rows/s "
                    + "(durable commits), claim %s rows/s, claim+start+finish %s rows/s (lazy commits).%n",
                    limit.batch(), n(limit.insertPerSecond()), n(limit.claimPerSecond()),
                    n(limit.lifecyclePerSecond()));
        }
        for (PgFigures.OfSystem s : systems) {
            if (s.drain() != null && s.drain().jobs() < config.drainJobs()) {
                out.printf("%s ran S2 on %,d jobs instead of %,d (too slow for the full count; the rate is "
                        + "compared).%n", s.contender().label(), s.drain().jobs(), config.drainJobs());
            }
            if (s.drain() != null && s.drain().timedOut()) {
                out.printf("%s did not finish S2 within %d s: %,d of %,d executed.%n", s.contender().label(),
                        config.drainDeadline().toSeconds(), s.drain().executed(), s.drain().jobs());
            }
            if (s.lateness() != null && s.lateness().leadSeconds() < 0) {
                out.printf("%s: the S3 preload overran by %.1f s, so jobs were due before it started.%n",
                        s.contender().label(), -s.lateness().leadSeconds());
            }
            if (s.lateness() != null && s.lateness().fired() < s.lateness().jobs()) {
                out.printf("%s fired %,d of %,d S3 jobs by %d s after the last due time; the percentiles are of "
                        + "those that fired.%n", s.contender().label(), s.lateness().fired(), s.lateness().jobs(),
                        config.latenessGrace().toSeconds());
            }
            if (s.error() != null) {
                out.printf("%s failed: %s%n", s.contender().label(), s.error());
            }
        }
        printRatios(out);
    }

    private static String row(PgFigures.OfSystem s) {
        PgFigures.Schedule s1 = s.schedule();
        PgFigures.Drain s2 = s.drain();
        PgFigures.Lateness s3 = s.lateness();
        return "| " + s.contender().label()
                + " | " + (s1 == null ? "-" : n(s1.perSecond()))
                + " | " + (s1 == null ? "-" : ms(s1.p50Ms()) + " / " + ms(s1.p99Ms()))
                + " | " + (s2 == null ? "-" : n(s2.perSecond()) + (s2.timedOut() ? " (deadline)" : ""))
                + " | " + (s2 == null ? "-" : String.format(Locale.ROOT, "%,d (%,d)", s2.jobs(), s2.executed())
                        + (s2.split() == null ? "" : ", nodes " + s2.split()))
                + " | " + (s3 == null ? "-" : ms(s3.p50Ms()) + " / " + ms(s3.p99Ms()) + " / " + ms(s3.p999Ms())
                        + " / " + ms(s3.maxMs()))
                + " | " + (s3 == null ? "-" : String.valueOf(s3.early()))
                + " | " + (s3 == null ? "-" : String.format(Locale.ROOT, "%,d of %,d", s3.fired(), s3.jobs())
                        + (s3.split() == null ? "" : ", nodes " + s3.split()))
                + " |";
    }

    private void printRatios(PrintStream out) {
        List<PgFigures.OfSystem> ours = systems.stream().filter(s -> s.contender().id().startsWith("hourglass"))
                .toList();
        List<PgFigures.OfSystem> peers = systems.stream().filter(s -> !s.contender().id().startsWith("hourglass"))
                .toList();
        if (ours.isEmpty()) {
            return;
        }
        out.println();
        out.println("Ratios (Hourglass / peer; S1 and S2 throughput, S3 p99 lateness peer / Hourglass):");
        out.println();
        out.println("| Hourglass | Peer | S1 | S2 | S3 p99 |");
        out.println("|---|---|---|---|---|");
        for (PgFigures.OfSystem h : ours) {
            for (PgFigures.OfSystem p : peers) {
                out.printf("| %s | %s | %s | %s | %s |%n", h.contender().label(), p.contender().label(),
                        ratio(s1(h), s1(p)), ratio(s2(h), s2(p)), ratio(p99(p), p99(h)));
            }
        }
        if (limit != null) {
            out.println();
            for (PgFigures.OfSystem h : ours) {
                out.printf("%s against PostgreSQL alone: S1 %s of the batched insert rate; S2 %s of the batched "
                        + "claim+start+finish rate (%s of the claim rate).%n", h.contender().label(),
                        pct(s1(h), Optional.of(limit.insertPerSecond())),
                        pct(s2(h), Optional.of(limit.lifecyclePerSecond())),
                        pct(s2(h), Optional.of(limit.claimPerSecond())));
            }
        }
        printTargets(out, ours);
    }

    /** The targets, against the best db-scheduler S1 and db-scheduler lock-and-fetch's S2. */
    private void printTargets(PrintStream out, List<PgFigures.OfSystem> ours) {
        Optional<Double> dbS1 = systems.stream().filter(s -> s.contender().id().startsWith("db-scheduler"))
                .map(PgTable::s1).flatMap(Optional::stream).max(Double::compare);
        Optional<Double> lfS2 = systems.stream().filter(s -> s.contender().id().equals("db-scheduler-lf"))
                .map(PgTable::s2).flatMap(Optional::stream).findFirst();
        out.println();
        out.println("Targets (issue): S1 >= 5x db-scheduler, S2 >= 5x db-scheduler lock-and-fetch, S3 p99 <= 10 ms, "
                + "p99.9 <= 25 ms, 0 early.");
        for (PgFigures.OfSystem h : ours) {
            StringBuilder line = new StringBuilder("  " + h.contender().label() + ":");
            s1(h).ifPresent(v -> dbS1.ifPresent(d -> line.append(verdict(" S1 ", v / d, v / d >= TARGET_S1_RATIO))));
            s2(h).ifPresent(v -> lfS2.ifPresent(d -> line.append(verdict(" S2 ", v / d, v / d >= TARGET_S2_RATIO))));
            if (h.lateness() != null) {
                PgFigures.Lateness l = h.lateness();
                boolean all = l.fired() >= l.jobs();
                line.append(String.format(Locale.ROOT, " S3 p99 %s ms %s, p99.9 %s ms %s, early %d %s%s;",
                        ms(l.p99Ms()), met(l.p99Ms() <= TARGET_P99_MS), ms(l.p999Ms()),
                        met(l.p999Ms() <= TARGET_P999_MS), l.early(), met(l.early() == 0),
                        all ? "" : " (not all fired)"));
            }
            out.println(line);
        }
    }

    private static String verdict(String what, double ratio, boolean met) {
        return String.format(Locale.ROOT, "%s%.1fx %s;", what, ratio, met(met));
    }

    private static String met(boolean met) {
        return met ? "met" : "MISSED";
    }

    private static Optional<Double> s1(PgFigures.OfSystem s) {
        return Optional.ofNullable(s.schedule()).map(PgFigures.Schedule::perSecond);
    }

    private static Optional<Double> s2(PgFigures.OfSystem s) {
        return Optional.ofNullable(s.drain()).map(PgFigures.Drain::perSecond);
    }

    private static Optional<Double> p99(PgFigures.OfSystem s) {
        return Optional.ofNullable(s.lateness()).map(PgFigures.Lateness::p99Ms);
    }

    private static String ratio(Optional<Double> a, Optional<Double> b) {
        if (a.isEmpty() || b.isEmpty() || b.get() <= 0) {
            return "-";
        }
        double r = a.get() / b.get();
        return String.format(Locale.ROOT, r >= 100 ? "%,.0fx" : "%.1fx", r);
    }

    private static String pct(Optional<Double> a, Optional<Double> b) {
        if (a.isEmpty() || b.isEmpty() || b.get() <= 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.0f %%", 100 * a.get() / b.get());
    }

    private static String n(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%,.0f" : "%.2f", v);
    }
}
