package dev.hourglass.bench;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What every system's no-op handler reports, measured the same way for all of them inside the handler: the wall
 * clock at the start of the handler against the due time the system hands it (Hourglass: the job's dueAt;
 * db-scheduler: the execution time; Quartz: the trigger's scheduled fire time). All due times in the suite are
 * whole milliseconds, so "early" (handler start before the due time) is exact at millisecond resolution.
 */
final class Firings {
    private final Recorder lateMicros = new Recorder(3);
    private final LongAdder fired = new LongAdder();
    private final LongAdder early = new LongAdder();
    private final LongAdder[] perNode;
    private final AtomicLong lastFiredNanos = new AtomicLong();

    Firings(int nodes) {
        perNode = new LongAdder[nodes];
        for (int i = 0; i < nodes; i++) {
            perNode[i] = new LongAdder();
        }
    }

    /** Called by a handler as its first act. Thread-safe, allocation-light: runs on every system's hot path. */
    void fired(Instant dueAt, int node) {
        Instant now = Instant.now(); // wall clock, microsecond resolution on Linux
        long micros = ChronoUnit.MICROS.between(dueAt, now);
        if (micros < 0) {
            early.increment();
        } else {
            lateMicros.recordValue(micros);
        }
        perNode[node].increment();
        fired.increment();
        lastFiredNanos.set(System.nanoTime());
    }

    long fired() {
        return fired.sum();
    }

    long early() {
        return early.sum();
    }

    long firedBy(int node) {
        return perNode[node].sum();
    }

    int nodes() {
        return perNode.length;
    }

    /** System.nanoTime() of the latest handler start, 0 if none. */
    long lastFiredNanos() {
        return lastFiredNanos.get();
    }

    /** The lateness of every on-time or late handler start so far, in microseconds. Call once, at the end. */
    Histogram lateness() {
        return lateMicros.getIntervalHistogram();
    }
}
