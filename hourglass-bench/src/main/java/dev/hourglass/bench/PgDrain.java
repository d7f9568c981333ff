package dev.hourglass.bench;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * S2 on PostgreSQL: {@code jobs} jobs all due at the same instant are written through the system's own batch API
 * while it is stopped; then it is started and timed until its no-op handler has started every job. Rate = jobs
 * executed / (last handler start - start call). A system that has not finished by the deadline reports how far it
 * got.
 */
final class PgDrain {
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

    private PgDrain() {}

    static PgFigures.Drain run(Report report, Contender contender, PgSystem system, Firings firings, int jobs,
            Duration deadline) throws Exception {
        Instant due = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        long p0 = System.nanoTime();
        system.preload(Collections.nCopies(jobs, due));
        double preloadSeconds = (System.nanoTime() - p0) / 1e9;
        Report.progress("%s S2: %,d jobs due at once written in %.1f s (%,.0f/s); starting", contender.id(), jobs,
                preloadSeconds, jobs / preloadSeconds);
        system.workSinceLastCall(); // the drain's commits only
        long t0 = System.nanoTime();
        system.start();
        long end = t0 + deadline.toNanos();
        long nextProgress = t0 + PROGRESS_EVERY.toNanos();
        while (firings.fired() < jobs && System.nanoTime() < end) {
            Thread.sleep(10);
            if (System.nanoTime() >= nextProgress) {
                nextProgress += PROGRESS_EVERY.toNanos();
                double s = (System.nanoTime() - t0) / 1e9;
                Report.progress("%s S2: %.0f s, %,d of %,d executed (%,.0f/s so far)", contender.id(), s,
                        firings.fired(), jobs, firings.fired() / s);
            }
        }
        long executed = firings.fired();
        boolean timedOut = executed < jobs;
        long last = timedOut ? System.nanoTime() : firings.lastFiredNanos();
        double seconds = (last - t0) / 1e9;
        String work = system.workSinceLastCall();
        if (work != null) {
            Report.progress("%s S2: %s", contender.id(), work);
        }
        if (timedOut) {
            Report.progress("%s S2: deadline of %d s reached with %,d of %,d executed; moving on", contender.id(),
                    deadline.toSeconds(), executed, jobs);
        }
        PgFigures.Drain figures = new PgFigures.Drain(jobs, executed, seconds, executed / seconds, preloadSeconds,
                timedOut, split(firings));
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("system", contender.id());
        line.put("jobs", jobs);
        line.put("executed", executed);
        line.put("seconds", seconds);
        line.put("per_s", figures.perSecond());
        line.put("timed_out", timedOut);
        line.put("preload_s", preloadSeconds);
        if (figures.split() != null) {
            line.put("split", figures.split());
        }
        report.result("pg-s2-drain", line);
        return figures;
    }

    /** Per-node counts ("a/b") when the system runs several nodes, else null. */
    static String split(Firings firings) {
        if (firings.nodes() < 2) {
            return null;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < firings.nodes(); i++) {
            s.append(i == 0 ? "" : "/").append(firings.firedBy(i));
        }
        return s.toString();
    }
}
