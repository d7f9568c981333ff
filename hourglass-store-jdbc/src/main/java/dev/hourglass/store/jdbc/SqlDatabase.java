package dev.hourglass.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A capability of a JDBC job store: other parts of Hourglass (the server's tenancy administration) keep tables of
 * their own in the store's database and read and write them through the store, under its rules. A store that offers
 * it implements this interface beside {@link dev.hourglass.core.store.JobStore}; callers ask with
 * {@code instanceof}.
 *
 * <p>Why through the store and not on a connection of one's own: the store owns its writer discipline. SQLite has
 * one writing connection (a second writer would meet the engine's group commit at SQLite's file lock, and one of them
 * would sleep and poll, or fail with {@code SQLITE_BUSY}); PostgreSQL's store sets timeouts, the schema on the search
 * path, and reports an outage as {@link dev.hourglass.core.store.StoreUnavailableException}. Work done here gets all
 * of that, as the store's own job writes do.
 *
 * <p>Every {@link SQLException} of a work becomes a {@link dev.hourglass.core.store.StoreException} (an outage: a
 * {@link dev.hourglass.core.store.StoreUnavailableException}) naming {@code what}. Safe from any thread.
 */
public interface SqlDatabase {

    /** Which SQL the database speaks, for the few statements that differ. */
    SqlDialect dialect();

    /**
     * Runs {@code work} on a read connection (autocommit on, sees committed data only). The connection is the
     * store's: the work must not close it, change its settings, or keep it.
     */
    <R> R readSql(String what, SqlWork<R> work);

    /**
     * Runs {@code work} in one transaction on the store's writer and commits it durably (on stable storage when this
     * returns, as {@link dev.hourglass.core.store.Durability#FSYNC} job writes are); if the work or the commit
     * throws, the transaction is rolled back. The connection is the store's, lent for the work only.
     */
    <R> R writeSql(String what, SqlWork<R> work);
}
