package dev.hourglass.store.postgres;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;

/**
 * The PostgreSQL server the tests run on, chosen once per JVM (when a test first uses this class):
 * <ol>
 *   <li>{@code HOURGLASS_TEST_PG_URL} set: that server;
 *   <li>otherwise, if something answers on 127.0.0.1:5432: {@code jdbc:postgresql://127.0.0.1:5432/test};
 *   <li>otherwise, or when {@code HOURGLASS_TEST_PG=embedded}: an {@link EmbeddedTestServer embedded server} of this
 *       JVM's own, so the suite needs no PostgreSQL installed. It is never a reason to skip a test.
 * </ol>
 * On a server of the first two kinds the tests log in as {@code HOURGLASS_TEST_PG_USER} (default {@code postgres})
 * with {@code HOURGLASS_TEST_PG_PASSWORD} (default none). Shared with the server module's PostgreSQL tests through
 * this module's test-jar: the child JVMs they start are handed {@link #URL}, so they reach the same server.
 *
 * Every store under test lives in a schema of its own, named {@code hg_test_<random>}, dropped after the test, so
 * runs (even concurrent ones on the same database) never see each other's rows.
 */
public final class TestDatabase {
    private static final String LOCAL_HOST = "127.0.0.1";
    private static final int LOCAL_PORT = 5432;
    private static final Duration LOCAL_PROBE_TIMEOUT = Duration.ofSeconds(1);

    private static final Server SERVER = chooseServer();
    public static final String URL = SERVER.url();
    public static final String USER = SERVER.user();
    public static final String PASSWORD = SERVER.password();
    /** Small pools: a test class opens a store per test, and the server allows ~100 connections in all. */
    static final int POOL_SIZE = 4;

    /** Where a PostgreSQL server is and how to log in to it; {@code password} may be null. */
    record Server(String url, String user, String password) {}

    private TestDatabase() {}

    private static Server chooseServer() {
        String mode = env("HOURGLASS_TEST_PG", "");
        String url = env("HOURGLASS_TEST_PG_URL", null);
        String user = env("HOURGLASS_TEST_PG_USER", "postgres");
        String password = env("HOURGLASS_TEST_PG_PASSWORD", null);
        switch (mode) {
            case "embedded" -> {
                if (url != null) {
                    throw new IllegalStateException("HOURGLASS_TEST_PG=embedded and HOURGLASS_TEST_PG_URL=" + url
                            + " both set: unset one (the first starts an embedded server, the second names a server)");
                }
                return EmbeddedTestServer.start("HOURGLASS_TEST_PG=embedded");
            }
            case "" -> {
                if (url != null) {
                    return new Server(url, user, password);
                }
                if (answers(LOCAL_HOST, LOCAL_PORT)) {
                    return new Server("jdbc:postgresql://" + LOCAL_HOST + ":" + LOCAL_PORT + "/test", user, password);
                }
                return EmbeddedTestServer.start("nothing answers on " + LOCAL_HOST + ":" + LOCAL_PORT);
            }
            default -> throw new IllegalStateException(
                    "HOURGLASS_TEST_PG=" + mode + ": the only value is 'embedded' (or leave it unset)");
        }
    }

    /** True if a TCP connection to {@code host:port} opens; whether it is a usable PostgreSQL, the tests tell. */
    private static boolean answers(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), (int) LOCAL_PROBE_TIMEOUT.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

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
