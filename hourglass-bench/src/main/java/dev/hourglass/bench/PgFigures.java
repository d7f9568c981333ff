package dev.hourglass.bench;

import org.HdrHistogram.Histogram;

/** The figures of the PostgreSQL suite, one record per scenario; null fields were not measured. */
final class PgFigures {
    private PgFigures() {}

    /** S1: durable schedules per second with {@code callers} blocking callers, and the call latency. */
    record Schedule(int callers, long jobs, double perSecond, double p50Ms, double p99Ms, double maxMs) {}

    /**
     * S2: {@code jobs} all due at once, written before the start; {@code perSecond} = executed / time from the
     * start call to the last handler start. {@code timedOut} when the deadline came first.
     */
    record Drain(int jobs, long executed, double seconds, double perSecond, double preloadSeconds, boolean timedOut,
            String split) {}

    /**
     * S3: lateness of handler starts (ms) for {@code jobs} spread uniformly over a window; {@code leadSeconds} is
     * the idle time between the start and the first due time (negative: the preload overran); {@code micros} the
     * distribution of the on-time and late starts in microseconds (for the plot).
     */
    record Lateness(int jobs, int windowSeconds, long fired, long early, double p50Ms, double p99Ms,
            double p999Ms, double maxMs, String split, double leadSeconds, Histogram micros) {}

    /** PostgreSQL alone on Hourglass's table: batched rows per second. */
    record Limit(int batch, double insertPerSecond, double claimPerSecond, double lifecyclePerSecond) {}

    /** Everything measured for one system (any part may be null if it was not run or failed). */
    record OfSystem(Contender contender, Schedule schedule, Drain drain, Lateness lateness, String error) {}
}
