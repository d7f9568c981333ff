package dev.hourglass.core.store;

import dev.hourglass.core.model.NewJob;
import java.util.List;

/**
 * A capability of a {@link JobStore}: inserting jobs inside a transaction the caller owns (transactional enqueue),
 * so that they exist if and only if the caller commits it. A store offers it by implementing this interface beside
 * {@link JobStore}; the engine asks with {@code instanceof} and refuses a caller's transaction when the store does
 * not. {@code T} is the store's kind of transaction ({@code java.sql.Connection} for a JDBC store), so the engine's
 * SPI names no JDBC type.
 *
 * <p>The store neither commits nor rolls back, never changes the transaction's settings (autocommit, isolation...),
 * and does not close it. The jobs must be unowned ({@link NewJob#owner()} null): the caller may still roll back, so
 * no node may hold them in its timer before the commit; after it, the horizon rounds claim them, and a store that
 * can announces them to {@link JobStore#onNewJobs} subscribers when, and only if, the caller commits.
 *
 * @param <T> the caller's transaction handle
 */
public interface TransactionalInsert<T> {

    /** The type of transaction handle {@link #insertIn} takes. */
    Class<T> transactionType();

    /**
     * Inserts {@code jobs} inside the caller's open transaction {@code callerTx}. Results as
     * {@link StoreTx#insert}, one per job, in order.
     *
     * @throws IllegalArgumentException if {@code callerTx} has no open transaction to join (a JDBC connection in
     *     autocommit mode) or a job is owned
     * @throws StoreException if a statement fails; the caller's transaction may then be unusable (PostgreSQL aborts a
     *     transaction at its first failed statement) and should be rolled back
     */
    List<InsertResult> insertIn(T callerTx, List<NewJob> jobs);
}
