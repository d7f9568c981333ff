package dev.hourglass.core.store;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.NewJob;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The source of truth. Narrow on purpose: one way to write (a transaction of batch operations, see {@link StoreTx})
 * and a few reads. The engine's group committer is the main writer; it packs many callers' operations into one
 * {@link #write} call, so each store commits (and fsyncs) once per batch. On a store that says
 * {@link #concurrentWrites()}, the horizon loader's claims are a second writer beside it.
 *
 * <p>Implementations must be safe for one writer thread plus any number of concurrent readers (and for several
 * writer threads if they say {@link #concurrentWrites()}).
 */
public interface JobStore extends AutoCloseable {

    /**
     * Runs {@code work} in one transaction and commits it. If {@code work} or the commit throws, the transaction
     * is rolled back and nothing of it is visible. Throws {@link StoreException} when the store cannot be reached.
     *
     * @param durability whether the commit must be on stable storage before this method returns
     */
    <R> R write(Durability durability, Function<StoreTx, R> work);

    Optional<Job> find(JobId id);

    JobPage list(JobQuery query);

    /**
     * The SCHEDULED jobs claimed by {@code params.owner()}, in id order, after {@code params.after()} (null: from the
     * first), at most {@code params.limit()}: one page of a keyset scan, each claim with only what a timer entry
     * needs (never the payload). RUNNING jobs of the owner, other owners' jobs and unowned jobs are left out. A read:
     * it sees committed data only, runs beside the writer, and changes nothing.
     *
     * <p>Why: a claim whose commit answer was lost ({@link StoreUnavailableException#outcomeUnknown()}) names no
     * job, so the node pages through everything it holds in the store to put the lost ones in its timer. Pages are
     * bounded and the scan uses an index on (owner, id), so each page costs its own rows, not all of the owner's.
     */
    List<Claim> claimsOf(ClaimsOfParams params);

    /**
     * The SCHEDULED jobs due until {@code params.dueUntil()} (all of them when it is null), counted by tenant and
     * {@link DueWindow} as seen from {@code params.now()}, with each group's earliest due time: what the pending-jobs
     * gauges show. A read beside the writer. It visits every job it counts, so callers
     * run it in the background, seconds apart, never per request, and count the far future seldom.
     *
     * @throws UnsupportedOperationException if this store cannot count (the default)
     */
    default List<PendingCount> countPending(PendingCountParams params) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not count pending jobs");
    }

    /**
     * The delivery history of one job: its recorded attempts ({@link FinishRun#attempt()}) numbered above
     * {@code afterAttempt}, in attempt order, at most {@code limit}. Empty when the job has none or does not exist
     * (callers look the job up first, for its tenant). A read beside the writer, through the history's primary key.
     *
     * @throws UnsupportedOperationException if this store keeps no history (the default)
     */
    default List<AttemptRecord> attempts(JobId id, int afterAttempt, int limit) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no delivery history");
    }

    /**
     * The delivery history of every job and node, recorded with an end at or after {@code since}, in end order (then
     * job and attempt), at most {@code limit}: what the target monitor reads to count each target's attempts over all
     * nodes. A read beside the writer, through the history's index on the end time. Rows committed late (a batch
     * whose commit took longer than others) may show up behind rows already read: readers overlap their windows.
     *
     * @throws UnsupportedOperationException if this store keeps no history (the default)
     */
    default List<FinishedAttempt> attemptsFinishedSince(Instant since, int limit) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no delivery history");
    }

    /**
     * The state of every watched target ({@link TargetState}), of every tenant. Small: one row per target that was
     * ever alarming or paused.
     *
     * @throws UnsupportedOperationException if this store keeps no target states (the default)
     */
    default List<TargetState> targetStates() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no target states");
    }

    /** A short name for this kind of store, as a metric label: {@code sqlite}, {@code postgres}. */
    default String kind() {
        return getClass().getSimpleName();
    }

    /** The largest id stored (or ever stored, if the store remembers), to seed the id generator after a restart. */
    Optional<JobId> lastJobId();

    /**
     * True when this store can only be used by one process at a time (the embedded SQLite file is locked). A node
     * on an exclusive store may take over every claim left in the store at start, without waiting for leases.
     */
    boolean exclusive();

    /**
     * True when {@link #write} may run on several threads at once, each transaction on a connection of its own, and
     * transactions that touch different rows do not wait for each other (PostgreSQL). The engine then runs its
     * horizon claims beside the group committer rather than in its queue. False by default: one writer (the
     * embedded SQLite file has a single writing connection, so a second writer would only queue for it).
     *
     * <p>Why: a claim round over a backlog writes thousands of rows; in the committer's queue, every start and
     * finish waits behind it, and the two kinds of work take turns on one connection (one database process) while
     * the machine's other cores idle. A claim locks only unowned SCHEDULED rows, which no start or finish touches,
     * and skips rows another transaction holds, so it never waits for the committer's writes nor they for long on
     * it (a cancel of a row being claimed waits for that claim's commit).
     */
    default boolean concurrentWrites() {
        return false;
    }

    /**
     * Optional: subscribes to jobs that someone else committed and no node claimed, such as jobs committed by
     * {@link TransactionalInsert#insertIn}, so that the engine can claim them before its next regular horizon round.
     * {@code dueAt} receives the earliest due time of each committed batch; it is called on a thread of the store,
     * must be fast and should not throw (what it throws is logged and ignored). Announcements are a hint, never a
     * guarantee (they may be lost while the store reconnects): the regular rounds still find every job. The default
     * announces nothing.
     */
    default Subscription onNewJobs(Consumer<Instant> dueAt) {
        return () -> {};
    }

    /**
     * Optional: the store's own clock, read in one round trip (precise to the microsecond or better), or empty when
     * the store has no clock that several nodes share (the embedded SQLite store: one process, one clock; the
     * default).
     *
     * <p>Why: nodes sharing a store compute due times ("in 5 s" is now + 5 s) and lease expiries on one node and
     * compare them with "now" on another. Each node's own clock would let a node whose clock runs ahead fire a job
     * early, or rescue another node's live claims. So the engine measures its offset from this clock now and then
     * and times everything by it: one cluster clock (see {@link dev.hourglass.core.time.StoreClock}). Called on an
     * engine thread every few seconds, never inside a transaction; it changes nothing.
     *
     * @throws StoreException when the store cannot be reached ({@link StoreUnavailableException}) or the read fails
     */
    default Optional<Instant> readClock() {
        return Optional.empty();
    }

    /**
     * Optional: holds a mark of {@code node}'s life in the store that the store drops by itself when the node's
     * process dies (see {@link NodePresence}), and that {@link StoreTx#rescueExpired} reads: a node whose mark is
     * gone is rescued at once, whatever its lease. The default holds none: nodes are rescued when their lease runs
     * out. Waits at most the store's connect timeout for the mark; a mark it could not take is retried in the
     * background, and the node depends on its lease meanwhile.
     */
    default NodePresence holdPresence(String node) {
        return NodePresence.NONE;
    }

    /** Ends a subscription; idempotent, never throws. */
    @FunctionalInterface
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    @Override
    void close();
}
