package dev.hourglass.store.sqlite;

import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.util.Objects;

/**
 * Paces the warnings of a failure that repeats on every round of a loop (a checkpoint every 100 ms on a full disk):
 * the first failure of a run is logged at once, later ones at most once per {@code interval} with the number that
 * were left out. Time is the injected monotonic {@link Ticker}. Used by one thread.
 */
final class RepeatedWarning {
    private final Ticker ticker;
    private final long intervalNanos;
    /** Failures since the run began that have not been logged yet. */
    private long unlogged;
    private long failuresInRun;
    private long lastLoggedNanos;

    RepeatedWarning(Ticker ticker, Duration interval) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.intervalNanos = interval.toNanos();
    }

    /**
     * Counts a failure. Returns how many failures this log line stands for (1 for the first of a run, or this one
     * plus those left out since the last line) when it is to be logged now, and 0 when it is to stay silent.
     */
    long failed() {
        long now = ticker.nanoTime();
        failuresInRun++;
        unlogged++;
        if (failuresInRun == 1 || now - lastLoggedNanos >= intervalNanos) {
            lastLoggedNanos = now;
            long count = unlogged;
            unlogged = 0;
            return count;
        }
        return 0;
    }

    /** Ends a run. Returns how many failures it had (0 if none), for one line saying it is over. */
    long succeeded() {
        long run = failuresInRun;
        failuresInRun = 0;
        unlogged = 0;
        return run;
    }
}
