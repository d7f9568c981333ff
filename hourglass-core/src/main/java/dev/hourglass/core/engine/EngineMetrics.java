package dev.hourglass.core.engine;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import java.time.Duration;

/**
 * What the engine reports, as a tiny interface with a no-op default: core stays free of any metrics library, and
 * the Micrometer binding ({@code hourglass-metrics}) implements it. Called on engine threads (the committer, the
 * timer, attempt threads): implementations must be fast, must not block and must not throw.
 */
public interface EngineMetrics {
    EngineMetrics NOOP = new EngineMetrics() {};

    /**
     * The engine started: {@code engine} answers the gauges a binding reads when asked (timer entries, whether the
     * store answers) and names the node and the store. Called once, before the first job is taken.
     */
    default void engineStarted(EngineView engine) {}

    /** The engine stopped; called once, at the end of {@link Hourglass#close()}. */
    default void engineStopped() {}

    /**
     * A schedule call created a job (not a duplicate of an idempotency key). {@code durableAfter}: from the call to
     * the durable acknowledgement, on the monotonic clock; null for a job inserted in a caller's transaction, whose
     * durability is the caller's commit.
     */
    default void jobCreated(Job job, Duration durableAfter) {}

    /** An attempt started {@code lateness} after its due time (wall clock). */
    default void attemptStarted(Job job, Duration lateness) {}

    /** How an attempt's delivery went (reported by the engine for in-process handlers, else by the handler). */
    default void deliveryAttempted(Job job, DeliveryAttempt attempt) {}

    /** An attempt ended and the job moved to {@code state}. */
    default void attemptFinished(Job job, JobState state) {}

    /** A SCHEDULED job was cancelled by a caller. */
    default void jobCancelled(Job job) {}

    /** A group commit wrote {@code operations} operations in one transaction. */
    default void committed(int operations, long nanos) {}

    /** A horizon claim, on a connection of its own beside the group committer, claimed {@code claimed} jobs. */
    default void claimCommitted(int claimed, long nanos) {}

    /** A write lost its compare-and-set (a stale claim, a cancel that won, ...). */
    default void claimLost(Job job) {}

    /** A horizon round handed {@code count} jobs of nodes whose lease ran out back to be claimed. */
    default void claimsRescued(int count) {}

    /** This node handed back {@code count} of its claims for other nodes to take: it held over its fair share. */
    default void claimsYielded(int count) {}

    /** A horizon round tried to renew this node's lease. */
    default void leaseRenewal(LeaseRenewal result) {}

    /** What became of a lease renewal. */
    enum LeaseRenewal {
        /** Renewed: this node's claims are safe for another lease TTL. */
        RENEWED,
        /** Not renewed: another node is rescuing this node's claims (the lease had run out). */
        LOST,
        /** The store could not be written. */
        FAILED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A new measurement of the cluster clock (the store's): {@code offset} is the store's clock minus this node's
     * wall clock, true to within {@code errorBound}. Reported every 10 s while the engine runs on a store with a
     * clock (PostgreSQL); never on a store without one.
     */
    default void clockOffset(Duration offset, Duration errorBound) {}
}
