package dev.hourglass.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/** Statements run on a connection a {@link SqlDatabase} lends for the call. */
@FunctionalInterface
public interface SqlWork<R> {
    R apply(Connection connection) throws SQLException;
}
