package dev.hourglass.store.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;

/**
 * The PostgreSQL server the tests run on, from the environment:
 * {@code HOURGLASS_TEST_PG_URL} (default {@code jdbc:postgresql://127.0.0.1:5432/test}),
 * {@code HOURGLASS_TEST_PG_USER} (default {@code postgres}) and {@code HOURGLASS_TEST_PG_PASSWORD} (default none).
 * Shared with the server module's PostgreSQL tests through this module's test-jar.
 *
 * Every store under test lives in a schema of its own, named {@code hg_test_<random>}, dropped after the test, so
 * runs (even concurrent ones on the same database) never see each other's rows.
 */
public final class TestDatabase {
    public static final String URL = env("HOURGLASS_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    public static final String USER = env("HOURGLASS_TEST_PG_USER", "postgres");
    public static final String PASSWORD = env("HOURGLASS_TEST_PG_PASSWORD", null);
    /** Small pools: a test class opens a store per test, and the server allows ~100 connections in all. */
    static final int POOL_SIZE = 4;

    private TestDatabase() {}

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    public static String newSchemaName() {
        return "hg_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
    }

    public static PostgresOptions options(String schema) {
        return PostgresOptions.of(URL, USER, PASSWORD).withPoolSize(POOL_SIZE).withSchema(schema);
    }

    /** A plain connection (no pool, autocommit on) with {@code schema} first on its search path. */
    public static Connection raw(String schema) throws SQLException {
        Connection connection = DriverManager.getConnection(URL, USER, PASSWORD);
        if (schema != null) {
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET search_path TO " + schema);
            }
        }
        return connection;
    }

    public static void dropSchema(String schema) {
        try (Connection connection = raw(null); Statement statement = connection.createStatement()) {
            statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException e) {
            throw new AssertionError("cannot drop test schema " + schema + " on " + URL + ": " + e.getMessage(), e);
        }
    }

    static Duration elapsedSince(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
