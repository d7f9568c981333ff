package dev.hourglass.store.postgres;

import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.InsertResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Transactional enqueue: inserts jobs on a caller's connection, inside the caller's open transaction, with the
 * store's own insert statement ({@link PostgresTx#insert}, schema-qualified because the caller's search path is its
 * own), and announces them with {@code pg_notify} in the same transaction.
 *
 * <p>Invariants: the caller's connection is only used for statements, never committed, rolled back, closed or
 * reconfigured (autocommit, network timeout and search path stay as the caller set them). The job rows and the
 * notification share the caller's fate: PostgreSQL delivers a notification when, and only if, its transaction
 * commits, so a listener never hears of a job that does not exist, and always after the job is visible.
 */
final class CallerTxInsert {
    private static final String NOTIFY = "SELECT pg_notify(?, ?)";

    private final String storeName;
    private final String qualifiedJobsTable;
    private final NewJobChannel channel;

    /**
     * @param schema the store's schema as {@code current_schema()} names it (any characters: it is quoted here)
     */
    CallerTxInsert(String storeName, String schema, NewJobChannel channel) {
        this.storeName = storeName;
        this.qualifiedJobsTable = quoteIdentifier(schema) + ".jobs";
        this.channel = channel;
    }

    List<InsertResult> insert(Connection callerTx, List<NewJob> jobs) {
        Objects.requireNonNull(callerTx, "callerTx");
        Objects.requireNonNull(jobs, "jobs");
        for (NewJob job : jobs) {
            if (job.owner() != null) {
                // A claim belongs in a node's timer, which must not hold a job that the caller may still roll back.
                throw new IllegalArgumentException("a job inserted in a caller's transaction must be unowned; job "
                        + job.id() + " is owned by " + job.owner());
            }
        }
        requireTransaction(callerTx);
        if (jobs.isEmpty()) {
            return List.of();
        }
        PostgresTx tx = new PostgresTx(callerTx, storeName, qualifiedJobsTable);
        try {
            List<InsertResult> results = tx.insert(jobs);
            Instant earliest = null;
            for (InsertResult result : results) {
                if (result instanceof InsertResult.Created created
                        && (earliest == null || created.job().dueAt().isBefore(earliest))) {
                    earliest = created.job().dueAt();
                }
            }
            if (earliest != null) {
                notify(callerTx, earliest);
            }
            return results;
        } finally {
            tx.end();
        }
    }

    /** Autocommit would commit each statement at once: there would be no transaction of the caller to join. */
    private void requireTransaction(Connection callerTx) {
        boolean autoCommit;
        try {
            autoCommit = callerTx.getAutoCommit();
        } catch (SQLException e) {
            throw PostgresJobStore.storeException(storeName, "read the caller's autocommit", e);
        }
        if (autoCommit) {
            throw new IllegalArgumentException("the caller's connection is in autocommit mode: there is no "
                    + "transaction to schedule in (setAutoCommit(false) first, or use schedule())");
        }
    }

    private void notify(Connection callerTx, Instant earliestDueAt) {
        try (PreparedStatement notify = callerTx.prepareStatement(NOTIFY)) {
            notify.setString(1, channel.name());
            notify.setString(2, NewJobChannel.payload(earliestDueAt));
            notify.execute();
        } catch (SQLException e) {
            throw PostgresJobStore.storeException(storeName, "notify of new jobs", e);
        }
    }

    static String quoteIdentifier(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
