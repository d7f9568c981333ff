package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import java.time.Duration;

/**
 * What the engine reports, as a tiny interface with a no-op default (the Micrometer binding lives elsewhere).
 * Called on engine threads: implementations must be fast and must not throw.
 */
public interface EngineMetrics {
    EngineMetrics NOOP = new EngineMetrics() {};

    /** An attempt started {@code lateness} after its due time (wall clock). */
    default void attemptStarted(Job job, Duration lateness) {}

    /** An attempt ended and the job moved to {@code state}. */
    default void attemptFinished(Job job, JobState state) {}

    /** A group commit wrote {@code operations} operations in one transaction. */
    default void committed(int operations, long nanos) {}

    /** A write lost its compare-and-set (a stale claim, a cancel that won, ...). */
    default void claimLost(Job job) {}

    /**
     * A new measurement of the cluster clock (the store's): {@code offset} is the store's clock minus this node's
     * wall clock, true to within {@code errorBound}. Reported every 10 s while the engine runs on a store with a
     * clock (PostgreSQL); never on a store without one. A binding would publish it as the gauges
     * {@code hourglass_clock_offset_seconds} and {@code hourglass_clock_offset_error_seconds}.
     */
    default void clockOffset(Duration offset, Duration errorBound) {}
}
