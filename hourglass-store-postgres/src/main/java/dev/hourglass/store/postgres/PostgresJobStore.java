package dev.hourglass.store.postgres;

import static dev.hourglass.store.postgres.JobRows.COLUMNS;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.Claim;
import dev.hourglass.core.store.ClaimsOfParams;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishedAttempt;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.NodePresence;
import dev.hourglass.core.store.PendingCount;
import dev.hourglass.core.store.PendingCountParams;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.store.TargetState;
import dev.hourglass.core.store.TransactionalInsert;
import dev.hourglass.store.jdbc.AttemptRows;
import dev.hourglass.store.jdbc.EpochMillis;
import dev.hourglass.store.jdbc.JobPageQuery;
import dev.hourglass.store.jdbc.JobPageQuery.RowSize;
import dev.hourglass.store.jdbc.PendingCountQuery;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.jdbc.SqlDialect;
import dev.hourglass.store.jdbc.SqlFailures;
import dev.hourglass.store.jdbc.SqlWork;
import dev.hourglass.store.jdbc.TargetStateRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster store: jobs in PostgreSQL, shared by any number of Hourglass nodes.
 *
 * <h2>Connections and threads</h2>
 * A HikariCP pool of {@link PostgresOptions#poolSize()} connections. Each {@link #write} borrows one connection for
 * its transaction (autocommit off) and hands it back after the commit or rollback; {@link #find}, {@link #list} and
 * {@link #lastJobId} borrow one for a single autocommit statement. So reads run beside the writer and see only
 * committed data, and several threads may even write at once (each in its own transaction): the statements are
 * written for concurrent nodes anyway. Every claim picks rows with {@code FOR UPDATE SKIP LOCKED}, so two nodes
 * claiming at the same moment never claim the same job and never wait for each other.
 *
 * <h2>Durability</h2>
 * <ul>
 *   <li>{@link Durability#FSYNC}: the commit returns after PostgreSQL flushed its WAL record to disk (the server's
 *       {@code synchronous_commit}, which must not be {@code off}: if the server or role says {@code off}, this
 *       store sets it back to {@code on} for its FSYNC transactions). Inserts, cancels and reschedules, i.e.
 *       everything acknowledged to a caller.</li>
 *   <li>{@link Durability#LAZY}: {@code SET LOCAL synchronous_commit = off}. The commit is visible to every node at
 *       once but returns before the WAL flush; the WAL writer flushes it within about three
 *       {@code wal_writer_delay}s (200 ms by default). A crash of the database server or its machine inside that
 *       window may lose the last few lazy commits; that is safe for claims, starts, finishes and heartbeats,
 *       because losing one only puts a job back in an earlier state, so it runs again (at-least-once) and is never
 *       lost. It never loses an acknowledged job: WAL is written and flushed in order, so once a later FSYNC commit
 *       has returned, every earlier lazy commit is durable too. A crash of the Hourglass process loses nothing
 *       committed: the commit lives in the server.</li>
 * </ul>
 *
 * <h2>Shared use</h2>
 * {@link #exclusive()} is false: other nodes use the same database, so a starting node takes over only the claims
 * of nodes whose lease expired.
 *
 * <h2>Schema</h2>
 * Versioned migrations in {@code db/migration/postgres} applied by Flyway at open ({@link PostgresMigrations}),
 * in {@link PostgresOptions#schema()} (created if missing) or the connection's default schema.
 *
 * <h2>Errors</h2>
 * An unreachable database at open fails within the connect timeout with a one-line {@link StoreException}. Later,
 * every {@link SQLException} becomes a {@link StoreException} naming the server, the operation and the SQLState,
 * after the transaction has been rolled back.
 *
 * <h2>Outages</h2>
 * Every call is bounded in time, so a database that goes away (stopped, restarted, or behind a network that drops
 * packets) fails calls instead of hanging them: waiting for a connection is bounded by
 * {@link PostgresOptions#connectTimeout()} (a refused connection is retried by the pool until then), and each
 * statement's wait for an answer by {@link PostgresOptions#socketTimeout()}. Such failures (no connection, SQLState
 * class 08, or the server shutting down, 57P01-57P03) are {@link StoreUnavailableException}s; one in the commit
 * itself has an unknown outcome ({@link StoreUnavailableException#outcomeUnknown()}). Broken connections are
 * evicted by the pool, which opens new ones once the server is back: nothing needs restarting.
 *
 * <h2>Other tables in the schema</h2>
 * As a {@link SqlDatabase}, the store lets other modules (the server's tenants and API keys) keep tables in the same
 * schema as the jobs, so every node sees the same rows; their reads and writes use the pool like the job methods,
 * and fail the same way.
 *
 * <h2>Transactional enqueue</h2>
 * {@link #insertIn} inserts jobs inside a caller's own transaction, on the caller's connection (schema-qualified
 * statements, {@link CallerTxInsert}), and announces them with {@code pg_notify} on a channel named after the schema
 * ({@link NewJobChannel}); PostgreSQL delivers the announcement only if the caller commits. {@link #onNewJobs}
 * subscribers hear of it through one LISTEN connection outside the pool ({@link NewJobListener}).
 */
public final class PostgresJobStore implements JobStore, SqlDatabase, TransactionalInsert<Connection> {
    private static final Logger log = LoggerFactory.getLogger(PostgresJobStore.class);
    private static final AtomicInteger POOLS = new AtomicInteger();
    /**
     * The server aborts a transaction of this store that waits this long for its next statement or COMMIT. Shorter
     * than the engine's lease TTL (10 s by default): a node cut off by the network in the middle of its heartbeat's
     * transaction holds the advisory lock that excludes its rescue until then, and a longer wait would delay the
     * rescue of its claims past the lease. A healthy transaction never waits between its statements.
     */
    static final Duration IDLE_IN_TRANSACTION_TIMEOUT = Duration.ofSeconds(5);
    /**
     * A statement of this store gives up waiting for a row lock after this long (SQLState 55P03, a plain
     * {@link StoreException}: the group committer retries the batch one operation per transaction, so only the
     * operation that meets the lock fails, with a 503 to its caller). Healthy transactions hold their locks for
     * milliseconds; the wait this bounds is on a transaction cut off by the network before its COMMIT, whose locks
     * stay until {@link #IDLE_IN_TRANSACTION_TIMEOUT}, and which would otherwise hold this node's only writer, and
     * every caller behind it, for that long.
     */
    static final Duration LOCK_TIMEOUT = Duration.ofSeconds(2);

    /** The thread's write in progress, to refuse a re-entrant {@link #write} (it would deadlock on row locks). */
    private static final ThreadLocal<PostgresJobStore> WRITING = new ThreadLocal<>();

    private final PostgresOptions options;
    private final String name;
    private final HikariDataSource pool;
    private final String schemaVersion;
    /** True when the server's default {@code synchronous_commit} is {@code off}: FSYNC writes then turn it on. */
    private final boolean forceSynchronousCommit;
    private final CallerTxInsert callerTxInsert;
    private final NewJobListener newJobListener;
    /** Where this store announces jobs that became claimable (new in a caller's tx, or handed back at a stop). */
    private final NewJobChannel channel;
    private volatile boolean closed;
    /** The schema that holds the tables, as {@code current_schema()} names it: part of the presence locks' key. */
    private final String schema;
    /** The presence marks this process holds, by node. */
    private final Map<String, PresenceKeeper> presences = new ConcurrentHashMap<>();

    /** @param schema the schema that holds the tables, as {@code current_schema()} names it */
    private PostgresJobStore(PostgresOptions options, String name, HikariDataSource pool, String schemaVersion,
            boolean forceSynchronousCommit, String schema) {
        this.options = options;
        this.name = name;
        this.pool = pool;
        this.schemaVersion = schemaVersion;
        this.forceSynchronousCommit = forceSynchronousCommit;
        this.channel = NewJobChannel.forSchema(schema);
        this.schema = schema;
        this.callerTxInsert = new CallerTxInsert(name, schema, channel);
        this.newJobListener = new NewJobListener(() -> openUnpooled(options, "hourglass-listen"), channel, name,
                options.connectTimeout().plusSeconds(1));
    }

    /**
     * Connects to the database, migrates the schema to the current version and returns the store.
     *
     * @throws StoreException if the database cannot be reached within the connect timeout, or cannot be migrated
     */
    public static PostgresJobStore open(PostgresOptions options) {
        Objects.requireNonNull(options, "options");
        String name = options.safeUrl() + (options.schema() != null ? " (schema " + options.schema() + ")" : "");
        HikariDataSource pool = connect(options);
        try {
            String version = PostgresMigrations.migrate(pool, options.schema(), name);
            // The migration turned the lock timeout off on the connections it used (see PostgresMigrations): new
            // connections, with the startup options' lock timeout, replace them.
            evictConnections(pool);
            boolean force = synchronousCommitIsOff(pool, name);
            if (force) {
                log.warn("synchronous_commit is off on {}; this store turns it on for its FSYNC commits", name);
            }
            PostgresJobStore store = new PostgresJobStore(options, name, pool, version, force,
                    currentSchema(pool, name));
            log.info("Opened PostgreSQL job store {} (schema version {}, pool of {})", name, version,
                    options.poolSize());
            return store;
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /**
     * Publishes the connection pool's meters (HikariCP's: active, idle, pending connections, acquire and usage
     * times) to {@code meterRegistry}, a Micrometer {@code MeterRegistry}: typed as Object so that this store needs
     * no metrics library unless its caller has one. Once per store.
     *
     * @throws IllegalStateException when called a second time
     */
    public void bindPoolMetrics(Object meterRegistry) {
        pool.setMetricRegistry(Objects.requireNonNull(meterRegistry, "meterRegistry"));
    }

    private static HikariDataSource connect(PostgresOptions options) {
        Properties properties = driverProperties(options);
        // One plain connection first, so that an unreachable or misconfigured database fails open() at once with
        // the driver's own words (HikariCP's fail-fast check would sleep a second after a failed attempt, and
        // wraps the reason). It is closed at once; the pool opens its own.
        Properties login = loginProperties(options);
        try (Connection probe = new org.postgresql.Driver().connect(options.jdbcUrl(), login)) {
            if (probe == null) {
                throw new SQLException("the PostgreSQL driver does not accept this URL");
            }
        } catch (SQLException e) {
            throw cannotConnect(options, e);
        }

        HikariConfig config = new HikariConfig();
        config.setPoolName("hourglass-pg-" + POOLS.incrementAndGet());
        config.setJdbcUrl(options.jdbcUrl());
        if (options.user() != null) {
            config.setUsername(options.user());
        }
        if (options.password() != null) {
            config.setPassword(options.password());
        }
        config.setDataSourceProperties(properties);
        config.setMaximumPoolSize(options.poolSize());
        config.setAutoCommit(true); // write() turns it off for its transaction
        long timeoutMs = options.connectTimeout().toMillis();
        config.setConnectionTimeout(timeoutMs);
        config.setValidationTimeout(Math.min(timeoutMs, 5_000));
        config.setInitializationFailTimeout(1); // one attempt at start: the database went away since the probe
        try {
            return new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw cannotConnect(options, e);
        }
    }

    /** The driver's settings, as strings (the driver reads its properties as text). */
    private static Properties driverProperties(PostgresOptions options) {
        long timeoutMs = options.connectTimeout().toMillis();
        Properties properties = new Properties();
        // The TCP connect, in whole seconds, and the whole login, in fractional seconds, which also covers a
        // server that accepts the connection but never answers.
        properties.setProperty("connectTimeout", String.valueOf(Math.max(1, (timeoutMs + 999) / 1000)));
        properties.setProperty("loginTimeout", String.valueOf(timeoutMs / 1000.0));
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("ApplicationName", "hourglass");
        // The server ends a transaction of ours left idle (its client vanished behind a broken network, so no FIN
        // or RST ever arrives): its row locks are freed, and a COMMIT held up in the network can no longer land
        // after this long (the engine checks unconfirmed commits for longer). A healthy transaction is never idle
        // for even a millisecond between its statements. A user-supplied "options" in the URL takes precedence.
        properties.setProperty("options",
                "-c idle_in_transaction_session_timeout=" + IDLE_IN_TRANSACTION_TIMEOUT.toMillis()
                        + " -c lock_timeout=" + LOCK_TIMEOUT.toMillis());
        if (options.schema() != null) {
            // search_path in the startup packet: no extra round trip per connection.
            properties.setProperty("currentSchema", options.schema());
        }
        return properties;
    }

    /** The driver's settings plus the credentials, for a connection the driver opens outside the pool. */
    private static Properties loginProperties(PostgresOptions options) {
        Properties login = new Properties();
        login.putAll(driverProperties(options));
        if (options.user() != null) {
            login.setProperty("user", options.user());
        }
        if (options.password() != null) {
            login.setProperty("password", options.password());
        }
        return login;
    }

    /**
     * A connection outside the pool with the pool's timeouts (for the LISTEN connection, which holds its session
     * as long as it listens), named {@code application} in {@code pg_stat_activity}.
     */
    private static Connection openUnpooled(PostgresOptions options, String application) throws SQLException {
        Properties login = loginProperties(options);
        login.setProperty("ApplicationName", application);
        Connection connection = new org.postgresql.Driver().connect(options.jdbcUrl(), login);
        if (connection == null) {
            throw new SQLException("the PostgreSQL driver does not accept this URL");
        }
        try {
            connection.setNetworkTimeout(Runnable::run, (int) options.socketTimeout().toMillis());
            return connection;
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
    }

    /** The schema the pool's connections resolve {@code jobs} in: where the migration put the tables. */
    private static String currentSchema(HikariDataSource pool, String name) {
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT current_schema()")) {
            String schema = rs.next() ? rs.getString(1) : null;
            if (schema == null) {
                throw new StoreException("PostgreSQL store " + name + ": no schema on the search path");
            }
            return schema;
        } catch (SQLException e) {
            throw storeException(name, "read current_schema()", e);
        }
    }

    private static StoreException cannotConnect(PostgresOptions options, Exception e) {
        return new StoreException("cannot connect to PostgreSQL at " + options.safeUrl()
                + (options.user() != null ? " as " + options.user() : "") + " (connect timeout "
                + options.connectTimeout().toMillis() + " ms): " + driverMessage(e), e);
    }

    private static boolean synchronousCommitIsOff(HikariDataSource pool, String name) {
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT current_setting('synchronous_commit')")) {
            return rs.next() && "off".equalsIgnoreCase(rs.getString(1));
        } catch (SQLException e) {
            throw storeException(name, "read synchronous_commit", e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // writes

    /**
     * Runs {@code work} in one transaction on one pooled connection and commits it with the given durability (see
     * the class comment). If {@code work} throws, the transaction is rolled back and the same exception is rethrown;
     * if PostgreSQL fails, a {@link StoreException}. Not re-entrant: calling {@code write} from inside {@code work}
     * is a bug and throws {@link IllegalStateException}.
     */
    @Override
    public <R> R write(Durability durability, Function<StoreTx, R> work) {
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(work, "work");
        return transaction(durability, "write", connection -> {
            PostgresTx tx = new PostgresTx(connection, name, channel, this::presenceEpoch);
            try {
                return work.apply(tx);
            } finally {
                tx.end();
            }
        });
    }

    @Override
    public SqlDialect dialect() {
        return SqlDialect.POSTGRESQL;
    }

    /**
     * Runs {@code work} in one FSYNC transaction on a pooled connection, with the same begin, commit, rollback,
     * outage and re-entrance handling as {@link #write}: such writes are acknowledged to a caller, so they must be
     * durable when they return even where the server's {@code synchronous_commit} is off, which an autocommit
     * statement would not be. An {@link SQLException} of {@code work} becomes a {@link StoreException} (or
     * {@link StoreUnavailableException}) about {@code what}, after the rollback.
     */
    @Override
    public <R> R writeSql(String what, SqlWork<R> work) {
        return transaction(Durability.FSYNC, what, connection -> {
            try {
                return work.apply(connection);
            } catch (SQLException e) {
                throw storeException(name, what, e);
            }
        });
    }

    /** One transaction around {@code work} on one pooled connection: committed, or rolled back if it throws. */
    private <R> R transaction(Durability durability, String what, Function<Connection, R> work) {
        if (WRITING.get() != null) {
            throw new IllegalStateException("JobStore.write is not re-entrant: it was called from inside a write");
        }
        ensureOpen();
        WRITING.set(this);
        try (Connection connection = borrow(what)) {
            try {
                begin(connection, durability);
            } catch (SQLException e) {
                rollback(connection, e);
                throw storeException(name, "begin transaction", e);
            }
            R result;
            try {
                result = work.apply(connection);
            } catch (Throwable t) {
                rollback(connection, t);
                throw t;
            }
            commit(connection);
            return result;
        } catch (SQLException e) {
            // Only closing the connection gets here: the transaction has already ended.
            throw storeException(name, "hand back a connection", e);
        } catch (StoreUnavailableException e) {
            evictConnections();
            throw e;
        } finally {
            WRITING.remove();
        }
    }

    /**
     * After a connection failed, the others to the same server most likely did too (a restart, a network cut): the
     * pool replaces the idle ones now and the busy ones when they come back, instead of handing each out once more
     * to fail a call after the server is back.
     */
    private void evictConnections() {
        evictConnections(pool);
    }

    /** Closes {@code pool}'s idle connections now and its busy ones when they come back; new ones replace them. */
    private static void evictConnections(HikariDataSource pool) {
        var bean = pool.getHikariPoolMXBean();
        if (bean != null) {
            bean.softEvictConnections();
        }
    }

    /**
     * Opens the transaction. The driver sends BEGIN together with the first statement, so a LAZY transaction costs
     * one statement more (its SET LOCAL) and an FSYNC one none, unless the server's default must be overridden.
     */
    private void begin(Connection connection, Durability durability) throws SQLException {
        connection.setAutoCommit(false);
        if (durability == Durability.LAZY) {
            try (Statement statement = connection.createStatement()) {
                // Only this transaction (LOCAL): see the class comment for why losing it in a crash is safe.
                statement.execute("SET LOCAL synchronous_commit = off");
            }
        } else if (forceSynchronousCommit) {
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET LOCAL synchronous_commit = on");
            }
        }
    }

    private void commit(Connection connection) {
        try {
            connection.commit();
        } catch (SQLException e) {
            rollback(connection, e);
            if (connectionLost(e)) {
                // The COMMIT may have reached the server and been applied, with only its answer lost.
                throw new StoreUnavailableException("PostgreSQL store " + name + ": commit failed (SQLState "
                        + e.getSQLState() + "; the connection failed during it: the outcome is unknown): "
                        + SqlFailures.oneLine(e.getMessage()), e, true);
            }
            throw storeException(name, "commit", e);
        } finally {
            restoreAutoCommit(connection);
        }
    }

    private void rollback(Connection connection, Throwable cause) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            // The pool discards a broken connection; the server rolls back a transaction whose session ended.
            log.warn("Rollback on {} failed: {}", name, SqlFailures.oneLine(e.getMessage()));
            if (cause != null && cause != e) {
                cause.addSuppressed(e);
            }
        } finally {
            restoreAutoCommit(connection);
        }
    }

    private void restoreAutoCommit(Connection connection) {
        try {
            connection.setAutoCommit(true);
        } catch (SQLException e) {
            log.debug("Restoring autocommit on {} failed (the pool resets or evicts the connection)", name, e);
        }
    }

    /** A setting as the store's pooled connections have it, for tests. */
    String sessionSetting(String setting) {
        return readSql("current_setting", connection -> {
            try (PreparedStatement statement = connection.prepareStatement("SELECT current_setting(?)")) {
                statement.setString(1, setting);
                try (ResultSet rs = statement.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /** The synchronous_commit in effect inside a write of {@code durability}, for tests of the mapping. */
    String synchronousCommitInside(Durability durability) {
        ensureOpen();
        try (Connection connection = borrow("synchronous_commit")) {
            try {
                begin(connection, durability);
                try (Statement statement = connection.createStatement();
                        ResultSet rs = statement.executeQuery("SELECT current_setting('synchronous_commit')")) {
                    return rs.next() ? rs.getString(1) : null;
                }
            } finally {
                rollback(connection, null);
            }
        } catch (SQLException e) {
            throw storeException(name, "read synchronous_commit", e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // transactional enqueue

    /**
     * Inserts unowned jobs inside the caller's open transaction on {@code callerTx} (which must reach this store's
     * database, with autocommit off), with the store's own insert statement, and announces them to every node's
     * {@link #onNewJobs} in the same transaction: they exist, and are announced, if and only if the caller commits.
     * Neither commits, rolls back, closes nor reconfigures the connection. Idempotency keys as in
     * {@link StoreTx#insert}, against what the caller's transaction sees: a key taken by another transaction not yet
     * committed makes the insert wait for it (PostgreSQL's unique index). A failed statement is a
     * {@link StoreException}, and PostgreSQL has then aborted the caller's transaction.
     */
    @Override
    public Class<Connection> transactionType() {
        return Connection.class;
    }

    @Override
    public List<InsertResult> insertIn(Connection callerTx, List<NewJob> jobs) {
        ensureOpen();
        return callerTxInsert.insert(callerTx, jobs);
    }

    /**
     * Announces the jobs that {@link #insertIn}, on any node, committed: {@code dueAt} gets the earliest due time of
     * each committed batch, on this store's listener thread. The first subscription opens the LISTEN connection and
     * waits (at most the connect timeout) for it, so that jobs committed after it returns are announced; the last
     * one to end closes it.
     */
    @Override
    public Subscription onNewJobs(Consumer<Instant> dueAt) {
        Objects.requireNonNull(dueAt, "dueAt");
        ensureOpen();
        return newJobListener.subscribe(dueAt);
    }

    /**
     * Holds {@code node}'s presence mark ({@link PresenceKeeper}): a session-level advisory lock on a connection of
     * its own, named {@code hourglass-presence} in {@code pg_stat_activity}, that PostgreSQL frees the moment this
     * process dies, so that other nodes rescue its claims at their next round instead of when its lease runs out.
     * Waits at most the connect timeout for the first attempt. Off ({@link NodePresence#NONE}) when
     * {@link PostgresOptions#crashDetection()} is.
     *
     * @throws IllegalStateException when this store already holds {@code node}'s mark
     */
    @Override
    public NodePresence holdPresence(String node) {
        Objects.requireNonNull(node, "node");
        ensureOpen();
        if (!options.crashDetection()) {
            return NodePresence.NONE;
        }
        PresenceKeeper keeper = new PresenceKeeper(() -> openUnpooled(options, "hourglass-presence"), schema, node,
                name, () -> presences.remove(node));
        if (presences.putIfAbsent(node, keeper) != null) {
            throw new IllegalStateException("node " + node + " already holds its presence in " + name);
        }
        return keeper.start(options.connectTimeout().plusSeconds(1));
    }

    /** The server epoch of {@code node}'s presence mark held now by this process, or null. */
    private Long presenceEpoch(String node) {
        PresenceKeeper keeper = presences.get(node);
        return keeper == null ? null : keeper.epoch();
    }

    /** The server process holding {@code node}'s presence lock, or -1 while none does (for tests). */
    int presenceBackendPid(String node) {
        PresenceKeeper keeper = presences.get(node);
        return keeper == null ? -1 : keeper.backendPid();
    }

    /** The server process of the LISTEN connection, or -1 while there is none (for tests). */
    int listenerBackendPid() {
        return newJobListener.backendPid();
    }

    // ---------------------------------------------------------------------------------------------------------
    // reads

    @Override
    public Optional<Job> find(JobId id) {
        Objects.requireNonNull(id, "id");
        return readSql("find " + id, connection -> {
            try (PreparedStatement find = connection.prepareStatement(PostgresTx.FIND_BY_ID)) {
                find.setObject(1, JobRows.uuid(id));
                List<Job> jobs = JobRows.query(find);
                return jobs.isEmpty() ? Optional.empty() : Optional.of(jobs.getFirst());
            }
        });
    }

    @Override
    public List<AttemptRecord> attempts(JobId id, int afterAttempt, int limit) {
        Objects.requireNonNull(id, "id");
        return readSql("attempts of " + id, connection -> {
            List<AttemptRecord> attempts;
            try (PreparedStatement select = connection.prepareStatement(PostgresTx.ATTEMPTS)) {
                select.setObject(1, JobRows.uuid(id));
                select.setInt(2, afterAttempt);
                select.setInt(3, limit);
                attempts = AttemptRows.query(select, AttemptRows::read);
            }
            if (attempts.size() == limit) {
                return attempts;
            }
            // A successful attempt is the job's last, kept in its row: it comes after every row of job_attempts.
            try (PreparedStatement success = connection.prepareStatement(PostgresTx.SUCCESS_OF_JOB)) {
                success.setObject(1, JobRows.uuid(id));
                success.setInt(2, afterAttempt);
                return AttemptRows.withLast(attempts, AttemptRows.query(success, AttemptRows::read));
            }
        });
    }

    @Override
    public List<FinishedAttempt> attemptsFinishedSince(Instant since, int limit) {
        Objects.requireNonNull(since, "since");
        return readSql("attempts finished since " + since, connection -> {
            try (PreparedStatement select = connection.prepareStatement(PostgresTx.ATTEMPTS_SINCE)) {
                select.setLong(1, EpochMillis.millis(since));
                select.setLong(2, EpochMillis.millis(since));
                select.setInt(3, limit);
                return AttemptRows.query(select, rs -> new FinishedAttempt(
                        JobRows.jobId(rs.getObject(10, java.util.UUID.class)), rs.getString(11), AttemptRows.read(rs)));
            }
        });
    }

    @Override
    public List<TargetState> targetStates() {
        return readSql("target states", TargetStateRows::readAll);
    }

    /**
     * The page query ({@link JobPageQuery}) in id (creation) order from the cursor. Its first step is a range scan
     * of the primary key, filtered by tenant and state (a tenant's page through {@code jobs_by_tenant}), that reads
     * sizes only ({@code octet_length} of a toasted value reads its header, not the value); the second reads the
     * page's rows by id. The driver holds a whole result in memory, so large values are read only for the rows the
     * byte budget keeps.
     */
    @Override
    public JobPage list(JobQuery query) {
        Objects.requireNonNull(query, "query");
        String sql = JobPageQuery.sizesSql("id", "id", "octet_length", query);
        return readSql("list", connection -> {
            List<RowSize> sizes = new ArrayList<>();
            try (PreparedStatement list = connection.prepareStatement(sql)) {
                int index = 1;
                if (query.after() != null) {
                    list.setObject(index++, JobRows.uuid(query.after()));
                }
                JobPageQuery.bindLimit(list, JobPageQuery.bindFilters(list, index, query), query);
                try (ResultSet rs = list.executeQuery()) {
                    while (rs.next()) {
                        sizes.add(JobPageQuery.readSize(rs, JobRows.jobId(rs.getObject(1, UUID.class)), 2));
                    }
                }
            }
            return JobPageQuery.page(sizes, query, ids -> rows(connection, query, ids));
        });
    }

    /** The second step: the page's rows by id, still of the query's tenant and state. */
    static String rowsSql(JobQuery query) {
        return "SELECT " + (query.payloads() ? COLUMNS : JobRows.COLUMNS_WITHOUT_PAYLOAD)
                + " FROM jobs WHERE id = ANY(?)" + JobPageQuery.filters(query, " AND ");
    }

    private static List<Job> rows(Connection connection, JobQuery query, List<JobId> ids) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(rowsSql(query))) {
            select.setArray(1, connection.createArrayOf("uuid", ids.stream().map(JobRows::uuid).toArray()));
            JobPageQuery.bindFilters(select, 2, query);
            return JobRows.query(select);
        }
    }

    /**
     * A page of one owner's SCHEDULED claims in id order: one range of {@code jobs_owned} on (owner, id) (schema
     * V4), read in order and cut at LIMIT, so a page costs its own rows and never a sort of all the owner's claims
     * (PostgresJobStoreTest checks the plans). {@code owner = ?} implies the index's {@code owner IS NOT NULL}.
     * Two texts rather than {@code (? IS NULL OR id > ?)}, which would hide the range from a generic plan.
     */
    static final String CLAIMS_OF_FIRST = "SELECT id, tenant, due_at, token FROM jobs "
            + "WHERE owner = ? AND state = '" + JobState.SCHEDULED.name() + "' ORDER BY id LIMIT ?";
    static final String CLAIMS_OF_NEXT = "SELECT id, tenant, due_at, token FROM jobs "
            + "WHERE owner = ? AND id > ? AND state = '" + JobState.SCHEDULED.name() + "' ORDER BY id LIMIT ?";

    @Override
    public List<Claim> claimsOf(ClaimsOfParams params) {
        String owner = params.owner();
        JobId after = params.after();
        int limit = params.limit();
        return readSql("claimsOf " + owner, connection -> {
            try (PreparedStatement claims = connection.prepareStatement(
                    after == null ? CLAIMS_OF_FIRST : CLAIMS_OF_NEXT)) {
                int index = 1;
                claims.setString(index++, owner);
                if (after != null) {
                    claims.setObject(index++, JobRows.uuid(after));
                }
                claims.setInt(index, limit);
                List<Claim> page = new ArrayList<>();
                try (ResultSet rs = claims.executeQuery()) {
                    while (rs.next()) {
                        page.add(new Claim(JobRows.jobId(rs.getObject(1, UUID.class)), rs.getString(2),
                                Instant.ofEpochMilli(rs.getLong(3)), rs.getLong(4)));
                    }
                }
                return page;
            }
        });
    }

    @Override
    public List<PendingCount> countPending(PendingCountParams params) {
        return PendingCountQuery.run(this, SqlDialect.POSTGRESQL, params);
    }

    @Override
    public String kind() {
        return "postgres";
    }

    /** The largest id in {@code jobs} (one step down the primary key), or the largest one pruned if larger. */
    @Override
    public Optional<JobId> lastJobId() {
        return readSql("lastJobId", connection -> {
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery(PostgresTx.LAST_JOB_ID)) {
                return rs.next() ? Optional.of(JobRows.jobId(rs.getObject(1, UUID.class))) : Optional.empty();
            }
        });
    }

    /**
     * PostgreSQL's clock in epoch microseconds. {@code clock_timestamp()}, not {@code now()}: the time the statement
     * runs, not the start of its transaction. The epoch is numeric (exact) since PostgreSQL 14.
     */
    private static final String CLOCK = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

    /**
     * PostgreSQL's clock, the cluster clock of every node on this database: one autocommit statement on a pooled
     * connection, failing as the other reads do.
     */
    @Override
    public Optional<Instant> readClock() {
        return Optional.of(readSql("readClock", connection -> {
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery(CLOCK)) {
                rs.next();
                long micros = rs.getLong(1);
                return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                        Math.floorMod(micros, 1_000_000L) * 1_000L);
            }
        }));
    }

    /** Runs {@code work} on a pooled connection in autocommit. */
    @Override
    public <R> R readSql(String what, SqlWork<R> work) {
        ensureOpen();
        try (Connection connection = borrow(what)) {
            return work.apply(connection);
        } catch (SQLException e) {
            StoreException failure = storeException(name, what, e);
            if (failure instanceof StoreUnavailableException) {
                evictConnections();
            }
            throw failure;
        } catch (StoreUnavailableException e) {
            evictConnections();
            throw e;
        }
    }

    /**
     * A pooled connection whose statements wait at most the socket timeout for an answer (the pool resets the
     * timeout when the connection comes back, so only this store's calls carry it, not the migration's).
     */
    private Connection borrow(String what) {
        Connection connection;
        try {
            connection = pool.getConnection();
        } catch (SQLTransientConnectionException e) {
            throw new StoreUnavailableException("PostgreSQL store " + name + ": " + what + ": no connection within "
                    + options.connectTimeout().toMillis() + " ms: " + driverMessage(e), e, false);
        } catch (SQLException e) {
            if (closed) {
                throw closedException();
            }
            throw storeException(name, what + ": get a connection", e);
        }
        try {
            // The driver ignores the executor: the timeout is the socket's SO_TIMEOUT, set locally.
            connection.setNetworkTimeout(Runnable::run, (int) options.socketTimeout().toMillis());
            return connection;
        } catch (SQLException e) {
            try {
                connection.close();
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            }
            throw storeException(name, what + ": set the socket timeout", e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** False: other nodes share the database; only claims of nodes whose lease expired may be taken over. */
    @Override
    public boolean exclusive() {
        return false;
    }

    /** Each write takes a pooled connection of its own: claims may run beside the group committer. */
    @Override
    public boolean concurrentWrites() {
        return true;
    }

    /** The schema version (the latest migration applied), e.g. {@code "1"}. */
    public String schemaVersion() {
        return schemaVersion;
    }

    public PostgresOptions options() {
        return options;
    }

    /** Closes the pool, waiting for connections in use to come back. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        newJobListener.close();
        List.copyOf(presences.values()).forEach(PresenceKeeper::close);
        pool.close();
        log.info("Closed PostgreSQL job store {}", name);
    }

    private void ensureOpen() {
        if (closed) {
            throw closedException();
        }
    }

    private StoreException closedException() {
        return new StoreException("PostgreSQL store " + name + " is closed");
    }

    /**
     * A failure of this store, named by its SQLState; an outage ({@link #connectionLost}) is unavailability, and a
     * value the server refused ({@link #refusedData}) is the operation's fault: an {@link InvalidDataException},
     * whose message shows none of the server's words (they are in its cause, for the log).
     */
    static StoreException storeException(String storeName, String what, SQLException e) {
        String message = SqlFailures.message("PostgreSQL store " + storeName, what, "SQLState " + e.getSQLState(), e);
        if (connectionLost(e)) {
            return new StoreUnavailableException(message, e, false);
        }
        if (refusedData(e)) {
            return new InvalidDataException(null, "the store refused a value (SQLState " + e.getSQLState() + ")", -1,
                    new StoreException(message, e));
        }
        return new StoreException(message, e);
    }

    /**
     * True when the server refused a value as data: SQLState class 22 (data exception: a NUL byte in text, a number
     * out of range, an invalid datetime, a string too long...). Retrying the same value cannot succeed.
     */
    static boolean refusedData(SQLException e) {
        String state = e.getSQLState();
        return state != null && state.startsWith("22");
    }

    /**
     * True when the failure is the connection's, not the statement's: SQLState class 08 (connection exception,
     * which the driver also reports for a socket timeout or a closed socket) or the server shutting down or
     * starting up (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now).
     */
    static boolean connectionLost(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                || state.equals("57P03"));
    }

    /**
     * The driver's reason, on one line: the message of the first {@link SQLException} in the cause chain (the
     * driver's, under any wrapping by the pool), else of the innermost cause.
     */
    static String driverMessage(Throwable e) {
        Throwable root = e;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException && !(t instanceof SQLTransientConnectionException) && t.getMessage() != null) {
                return SqlFailures.oneLine(t.getMessage());
            }
            root = t;
        }
        return SqlFailures.oneLine(root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName());
    }

    @Override
    public String toString() {
        return "PostgresJobStore[" + name + "]";
    }
}
