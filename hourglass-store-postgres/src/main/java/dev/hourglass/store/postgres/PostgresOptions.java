package dev.hourglass.store.postgres;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where and how a {@link PostgresJobStore} connects. Immutable; invalid values are refused, never corrected.
 *
 * <pre>{@code
 * PostgresJobStore store = PostgresJobStore.open(
 *         PostgresOptions.of("jdbc:postgresql://db:5432/hourglass", "hourglass", secret).withPoolSize(16));
 * }</pre>
 *
 * @param jdbcUrl a {@code jdbc:postgresql:} URL
 * @param user the database user, or null to take it from the URL (or the driver's default)
 * @param password the password, or null (trust or peer authentication, or a password in the URL)
 * @param poolSize the connections of the pool: one serves each write transaction, the others concurrent reads
 *     (at least 2, so a read never waits for the writer's connection)
 * @param connectTimeout how long opening a connection (TCP connect and login) may take, and how long a caller
 *     waits for a free pooled connection; an unreachable database fails {@link PostgresJobStore#open} within it
 * @param socketTimeout how long one statement (or commit) of a read or write may wait for the server's answer
 *     before the connection is given up: the bound on a database that stopped answering (a hung network, a
 *     blackholed connection), where TCP alone would wait for many minutes. A write that times out during its
 *     commit has an unknown outcome (see {@link dev.hourglass.core.store.StoreUnavailableException}). It must
 *     exceed the slowest healthy statement (a batch of a few thousand rows takes milliseconds). Schema migrations at
 *     open are not bound by it.
 * @param schema the schema holding the tables (created by the migration if missing), or null for the connection's
 *     default ({@code public} unless the URL's {@code currentSchema} or the role says otherwise). Lower-case
 *     letters, digits and underscores, so it never needs quoting.
 * @param crashDetection whether each node holds a presence mark ({@link PostgresJobStore#holdPresence}), so that
 *     other nodes rescue a dead node's jobs within a few seconds instead of when its lease runs out.
 *     On by default; turn it off behind a pooler that does not keep a client's session (PgBouncer in transaction
 *     mode), where a session-level lock does not follow the process that took it.
 */
public record PostgresOptions(
        String jdbcUrl, String user, String password, int poolSize, Duration connectTimeout, Duration socketTimeout,
        String schema, boolean crashDetection) {

    public static final int DEFAULT_POOL_SIZE = 8;
    public static final int MIN_POOL_SIZE = 3;
    public static final int MAX_POOL_SIZE = 1_000;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** HikariCP's floor for its connection timeout. */
    public static final Duration MIN_CONNECT_TIMEOUT = Duration.ofMillis(250);
    public static final Duration MAX_CONNECT_TIMEOUT = Duration.ofMinutes(10);
    public static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration MIN_SOCKET_TIMEOUT = Duration.ofMillis(250);
    public static final Duration MAX_SOCKET_TIMEOUT = Duration.ofHours(1);

    private static final Pattern SCHEMA_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    public PostgresOptions {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(socketTimeout, "socketTimeout");
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("jdbcUrl must start with jdbc:postgresql:, was " + redact(jdbcUrl));
        }
        if (poolSize < MIN_POOL_SIZE || poolSize > MAX_POOL_SIZE) {
            throw new IllegalArgumentException(
                    "poolSize must be between " + MIN_POOL_SIZE + " and " + MAX_POOL_SIZE + ", was " + poolSize);
        }
        if (connectTimeout.compareTo(MIN_CONNECT_TIMEOUT) < 0 || connectTimeout.compareTo(MAX_CONNECT_TIMEOUT) > 0) {
            throw new IllegalArgumentException("connectTimeout must be between " + MIN_CONNECT_TIMEOUT + " and "
                    + MAX_CONNECT_TIMEOUT + ", was " + connectTimeout);
        }
        if (socketTimeout.compareTo(MIN_SOCKET_TIMEOUT) < 0 || socketTimeout.compareTo(MAX_SOCKET_TIMEOUT) > 0) {
            throw new IllegalArgumentException("socketTimeout must be between " + MIN_SOCKET_TIMEOUT + " and "
                    + MAX_SOCKET_TIMEOUT + ", was " + socketTimeout);
        }
        if (schema != null && !SCHEMA_NAME.matcher(schema).matches()) {
            throw new IllegalArgumentException(
                    "schema must be lower-case letters, digits and underscores (at most 63), was '" + schema + "'");
        }
    }

    /**
     * The given server and credentials with the default pool size, connect timeout and socket timeout, in the
     * default schema.
     */
    public static PostgresOptions of(String jdbcUrl, String user, String password) {
        return new PostgresOptions(jdbcUrl, user, password, DEFAULT_POOL_SIZE, DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_SOCKET_TIMEOUT, null, true);
    }

    public PostgresOptions withPoolSize(int value) {
        return new PostgresOptions(jdbcUrl, user, password, value, connectTimeout, socketTimeout, schema,
                crashDetection);
    }

    public PostgresOptions withConnectTimeout(Duration value) {
        return new PostgresOptions(jdbcUrl, user, password, poolSize, value, socketTimeout, schema,
                crashDetection);
    }

    public PostgresOptions withSocketTimeout(Duration value) {
        return new PostgresOptions(jdbcUrl, user, password, poolSize, connectTimeout, value, schema,
                crashDetection);
    }

    public PostgresOptions withSchema(String value) {
        return new PostgresOptions(jdbcUrl, user, password, poolSize, connectTimeout, socketTimeout, value,
                crashDetection);
    }

    public PostgresOptions withCrashDetection(boolean value) {
        return new PostgresOptions(jdbcUrl, user, password, poolSize, connectTimeout, socketTimeout, schema, value);
    }

    /** The URL without its query string (which may carry a password), for messages and logs. */
    public String safeUrl() {
        return redact(jdbcUrl);
    }

    /** Never shows the password, nor URL parameters (which may hold one). */
    @Override
    public String toString() {
        return "PostgresOptions[jdbcUrl=" + safeUrl() + ", user=" + user + ", password="
                + (password == null ? "null" : "***") + ", poolSize=" + poolSize + ", connectTimeout="
                + connectTimeout + ", socketTimeout=" + socketTimeout + ", schema=" + schema + ", crashDetection="
                + crashDetection + "]";
    }

    private static String redact(String url) {
        int query = url.indexOf('?');
        return query < 0 ? url : url.substring(0, query) + "?...";
    }
}
