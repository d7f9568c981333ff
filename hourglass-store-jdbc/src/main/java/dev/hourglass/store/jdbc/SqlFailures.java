package dev.hourglass.store.jdbc;

import java.sql.SQLException;

/**
 * The shape of a store's failure messages, the same on every SQL store: {@code "<store>: <what> failed (<code>):
 * <the driver's message>"}, on one line. Which failures are outages ({@link
 * dev.hourglass.core.store.StoreUnavailableException}) and what the code is (a SQLite result code, a PostgreSQL
 * SQLState) stays each store's own.
 */
public final class SqlFailures {

    private SqlFailures() {}

    /**
     * The message of a failed operation.
     *
     * @param store the store as messages name it, e.g. {@code "SQLite store /var/lib/hourglass/jobs.db"}
     * @param what the operation, e.g. {@code "claim of due jobs"}
     * @param code the database's code for the failure, e.g. {@code "SQLITE_FULL"} or {@code "SQLState 40001"}
     */
    public static String message(String store, String what, String code, SQLException e) {
        return store + ": " + what + " failed (" + code + "): " + oneLine(e.getMessage());
    }

    /**
     * {@code text} on one line: drivers' messages carry "Detail:", "Where:" lines, Flyway's a whole report, and a
     * store's exceptions are read one line each in logs and API answers. Null becomes the empty string.
     */
    public static String oneLine(String text) {
        return text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
