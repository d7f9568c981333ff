package dev.hourglass.bench;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * S3 on PostgreSQL: {@code jobs} jobs due at whole milliseconds spread uniformly over {@code window}, written
 * through the system's batch API while it is stopped; the system starts right after, with a few seconds of idle
 * lead before the first due time. Lateness is measured in the handler (see {@link Firings}) for every job; the
 * system already ran S1 and S2 in this JVM, so its code is warm. Waits at most {@code grace} after the last due
 * time, then reports what fired.
 */
final class PgLateness {
    static final Duration LEAD = Duration.ofSeconds(5);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

    private PgLateness() {}

    /**
     * @param preloadPerSecond how fast this system wrote jobs in S2: the first due time is placed after the time
     *     the preload should take (three times that, plus {@link #LEAD}), so no job is due before the system runs;
     *     if the preload still overran (a machine busy with something else), the figures say so
     */
    static PgFigures.Lateness run(Report report, Contender contender, PgSystem system, Firings firings, int jobs,
            Duration window, Duration grace, double preloadPerSecond) throws Exception {
        Duration preloadAllowance = Duration.ofMillis((long) (3_000.0 * jobs / Math.max(1, preloadPerSecond)));
        Instant first = Instant.now().plus(LEAD).plus(preloadAllowance).truncatedTo(ChronoUnit.MILLIS);
        List<Instant> dues = new ArrayList<>(jobs);
        for (int i = 0; i < jobs; i++) {
            dues.add(first.plusMillis(window.toMillis() * i / jobs));
        }
        Instant last = dues.getLast();
        system.preload(dues);
        Duration beforeFirst = Duration.between(Instant.now(), first);
        Report.progress("%s S3: %,d jobs over %d s written; first due in %.1f s", contender.id(), jobs,
                window.toSeconds(), beforeFirst.toMillis() / 1000.0);
        if (beforeFirst.isNegative()) {
            Report.progress("%s S3: the preload overran: jobs were already due before the start; their lateness "
                    + "includes the overrun", contender.id());
        }
        system.workSinceLastCall(); // the commits from the start on
        system.start();
        Instant giveUp = last.plus(grace);
        long nextProgress = System.nanoTime() + PROGRESS_EVERY.toNanos();
        while (firings.fired() < jobs && Instant.now().isBefore(giveUp)) {
            Thread.sleep(20);
            if (System.nanoTime() >= nextProgress) {
                nextProgress += PROGRESS_EVERY.toNanos();
                long due = dues.stream().filter(d -> !d.isAfter(Instant.now())).count();
                Report.progress("%s S3: %,d due, %,d fired, %,d early", contender.id(), due, firings.fired(),
                        firings.early());
            }
        }
        if (firings.fired() < jobs) {
            Report.progress("%s S3: %,d of %,d fired by %d s after the last due time; moving on", contender.id(),
                    firings.fired(), jobs, grace.toSeconds());
        }
        Report.progress("%s S3 commits (starts and finishes): %s", contender.id(), system.workSinceLastCall());
        Histogram h = firings.lateness();
        PgFigures.Lateness figures = new PgFigures.Lateness(jobs, (int) window.toSeconds(), firings.fired(),
                firings.early(), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0, PgDrain.split(firings),
                beforeFirst.toMillis() / 1000.0, h);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("system", contender.id());
        line.put("jobs", jobs);
        line.put("window_s", window.toSeconds());
        line.put("fired", firings.fired());
        line.put("early", firings.early());
        line.putAll(Report.percentilesMs("lateness_", h));
        line.put("lead_s", beforeFirst.toMillis() / 1000.0);
        if (figures.split() != null) {
            line.put("split", figures.split());
        }
        report.result("pg-s3-lateness", line);
        return figures;
    }
}
