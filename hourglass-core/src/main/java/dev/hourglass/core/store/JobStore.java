package dev.hourglass.core.store;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import java.util.Optional;
import java.util.function.Function;

/**
 * The source of truth. Narrow on purpose: one way to write (a transaction of batch operations, see {@link StoreTx})
 * and a few reads. The engine's group committer is the only writer; it packs many callers' operations into one
 * {@link #write} call, so each store commits (and fsyncs) once per batch.
 *
 * <p>Implementations must be safe for one writer thread plus any number of concurrent readers.
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

    /** The largest id stored (or ever stored, if the store remembers), to seed the id generator after a restart. */
    Optional<JobId> lastJobId();

    /**
     * True when this store can only be used by one process at a time (the embedded SQLite file is locked). A node
     * on an exclusive store may take over every claim left in the store at start, without waiting for leases.
     */
    boolean exclusive();

    @Override
    void close();
}
