package dev.hourglass.bench;

import dev.hourglass.core.engine.EngineMetrics;
import java.util.Locale;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts one Hourglass node's group commits (the engine reports each one): how many operations each transaction
 * carried, how long it took, and which share of the time the node's single writer spent in commits. Few
 * operations per commit and a writer busy all the time mean the callers wait on the writer's round trips, not on
 * PostgreSQL's throughput.
 */
final class CommitStats implements EngineMetrics {
    private final LongAdder commits = new LongAdder();
    private final LongAdder operations = new LongAdder();
    private final LongAdder nanos = new LongAdder();
    /** Each commit's duration, microseconds. */
    private final Recorder micros = new Recorder(3);
    private volatile long since = System.nanoTime();

    @Override
    public void committed(int ops, long took) {
        commits.increment();
        operations.add(ops);
        nanos.add(took);
        micros.recordValue(Math.max(0, took / 1_000));
    }

    /** One line about the commits since the previous call (or since creation); then counts afresh. */
    String summaryAndReset() {
        long now = System.nanoTime();
        long elapsed = now - since;
        since = now;
        long c = commits.sumThenReset();
        long ops = operations.sumThenReset();
        long ns = nanos.sumThenReset();
        if (c == 0) {
            return "no commits";
        }
        Histogram took = micros.getIntervalHistogram();
        return String.format(Locale.ROOT, "%,d commits, %.1f ops/commit, %.2f ms/commit (p50 %.2f, p99 %.2f, max %.2f "
                        + "ms), writer busy %.0f %%", c, (double) ops / c, ns / 1e6 / c,
                took.getValueAtPercentile(50) / 1e3, took.getValueAtPercentile(99) / 1e3, took.getMaxValue() / 1e3,
                100.0 * ns / elapsed);
    }
}
