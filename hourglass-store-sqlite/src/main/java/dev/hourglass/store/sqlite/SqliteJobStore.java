package dev.hourglass.store.sqlite;

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
import dev.hourglass.core.store.PendingCount;
import dev.hourglass.core.store.PendingCountParams;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.store.TargetState;
import dev.hourglass.core.time.Ticker;
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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * The embedded default store: one SQLite file in WAL mode, used by one process at a time.
 *
 * <h2>Connections and threads</h2>
 * One <b>writer</b> connection, used only inside {@link #write}, which the engine's group committer calls from one
 * thread. {@link #writeLock} still guards it, because a JDBC connection is not thread-safe and one transaction must
 * never interleave with another: it protects the writer connection, its prepared-statement cache and the
 * connection's current {@code synchronous} setting. A small fixed pool of <b>read</b> connections (a blocking queue)
 * serves {@link #find}, {@link #list} and {@link #lastJobId} concurrently with the writer: in WAL mode readers never
 * block the writer and see only committed transactions.
 *
 * <h2>Durability</h2>
 * Every transaction starts with {@code BEGIN IMMEDIATE} (the write lock up front, so a transaction never fails
 * half-way to upgrade a read lock). Before it, the writer's {@code PRAGMA synchronous} is set from the
 * {@link Durability} asked for:
 * <ul>
 *   <li>{@link Durability#FSYNC} &rarr; {@code synchronous=FULL}: the WAL is fsync'd at commit, so the commit is on
 *       stable storage before {@code write} returns. This is what inserts, cancels and reschedules use, i.e.
 *       everything acknowledged to a caller.</li>
 *   <li>{@link Durability#LAZY} &rarr; {@code synchronous=NORMAL}: the commit is written to the WAL (the OS page
 *       cache) but not fsync'd. That is safe for claims, starts, finishes and heartbeats: a WAL commit survives a
 *       process kill, since the bytes are already in the kernel; only a power loss or kernel crash can lose it, and
 *       losing one of these writes only puts a job back in an earlier state, so it runs again (at-least-once) and
 *       is never lost. An acknowledged job cannot be lost with it: WAL frames are appended in commit order and
 *       the fsync of any later FSYNC commit syncs the whole WAL file, earlier LAZY frames included, and the
 *       checkpointer syncs the WAL before it copies pages into the database file.</li>
 * </ul>
 * {@code fullfsync} is on, so that on macOS "fsync" reaches the disk and not just its cache (no-op elsewhere).
 *
 * <h2>Exclusive use</h2>
 * The store holds an OS lock on {@code <file>.lock} and one on the database file itself while it is open
 * ({@link StoreLock}, {@link DatabaseFileLock}); a second open of the same file, from this or another process, fails
 * with a {@link StoreException} naming the holder's pid, and still fails when the lock file was deleted. Hence
 * {@link #exclusive()} is true: at start a node may take over every claim left in the file.
 *
 * <h2>Schema</h2>
 * Versioned migrations in {@code db/migration/sqlite} applied by Flyway at open ({@link SqliteMigrations}).
 *
 * <h2>Other tables in the file</h2>
 * As a {@link SqlDatabase}, the store lets other modules (the server's tenants and API keys) keep tables in the same
 * file: their reads use the read pool, their writes the writer connection, through the same transaction code as
 * {@link #write}, so the file keeps a single writing connection.
 *
 * <h2>Errors</h2>
 * Every {@link SQLException} (disk full, I/O error, corruption...) becomes a {@link StoreException} naming the
 * file, the operation and SQLite's result code, after the transaction has been rolled back. A value the store cannot
 * keep is refused before anything is bound ({@link dev.hourglass.store.jdbc.StoreValues}), and one longer than SQLite's
 * limit by SQLite: both are an {@link InvalidDataException}, the operation's fault and not the file's. Every cached
 * statement a transaction used is emptied when it ends, committed or not ({@code SqliteTx#end}).
 */
public final class SqliteJobStore implements JobStore, SqlDatabase {
    private static final Logger log = LoggerFactory.getLogger(SqliteJobStore.class);

    private final Path file;
    private final String name;
    private final SqliteOptions options;
    private final StoreLock fileLock;
    private final String schemaVersion;

    /** Guards {@link #writer}, {@link #statements} and {@link #synchronous}: one transaction at a time. */
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Connection writer;
    private final Statement writerControl;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private Durability synchronous;
    /** True when a failed transaction may not have been rolled back; the next write rolls back first. */
    private boolean transactionMayBeOpen;

    private final List<Connection> allReaders;
    private final BlockingQueue<Connection> idleReaders;
    private final WalCheckpointer checkpointer;
    private volatile boolean closed;

    private SqliteJobStore(Path file, SqliteOptions options, StoreLock fileLock, String schemaVersion,
            Connection writer, List<Connection> readers, Connection checkpointConnection) throws SQLException {
        this.file = file;
        this.name = file.toString();
        this.options = options;
        this.fileLock = fileLock;
        this.schemaVersion = schemaVersion;
        this.writer = writer;
        this.writerControl = writer.createStatement();
        this.allReaders = List.copyOf(readers);
        // Fair: readers waiting for a connection are served in arrival order. Unfair, a few busy readers can keep
        // taking the connections back while another waits out its whole busyTimeout (more readers than
        // connections on few cores).
        this.idleReaders = new ArrayBlockingQueue<>(readers.size(), true, readers);
        this.checkpointer = new WalCheckpointer(checkpointConnection, name, Ticker.system());
        this.checkpointer.start();
    }

    /** Opens (creating it and its parent directories if needed) the store in {@code file}, with default options. */
    public static SqliteJobStore open(Path file) {
        return open(file, SqliteOptions.DEFAULTS);
    }

    /**
     * Opens (creating it and its parent directories if needed) the store in {@code file}: locks it for this process,
     * migrates its schema to the current version and opens the connections.
     *
     * @throws StoreException if the file is in use by another store, cannot be created or migrated
     */
    public static SqliteJobStore open(Path file, SqliteOptions options) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        Path path = file.toAbsolutePath().normalize();
        try {
            Path parent = path.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new StoreException("cannot create the directory of " + path + ": " + e, e);
        }
        StoreLock lock = StoreLock.acquire(path);
        String url = "jdbc:sqlite:" + path;
        List<Connection> opened = new ArrayList<>();
        try {
            Connection writer = connect(url, options, false);
            opened.add(writer);
            String version = SqliteMigrations.migrate(url, path);
            List<Connection> readers = new ArrayList<>();
            for (int i = 0; i < options.readConnections(); i++) {
                Connection reader = connect(url, options, true);
                opened.add(reader);
                readers.add(reader);
            }
            Connection checkpointConnection = connect(url, options, false);
            opened.add(checkpointConnection);
            lock.lockDatabase();
            SqliteJobStore store = new SqliteJobStore(path, options, lock, version, writer, readers,
                    checkpointConnection);
            log.info("Opened SQLite job store {} (schema version {}, {} read connections)", path, version,
                    readers.size());
            return store;
        } catch (SQLException | RuntimeException e) {
            for (Connection connection : opened) {
                closeQuietly(connection);
            }
            lock.close();
            if (e instanceof SQLException sql) {
                throw storeException(path.toString(), "open", sql);
            }
            throw (RuntimeException) e;
        }
    }

    private static Connection connect(String url, SqliteOptions options, boolean readOnly) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout((int) options.busyTimeout().toMillis());
        config.setCacheSize(-options.cacheSizeKib()); // negative = KiB rather than pages
        config.setTempStore(SQLiteConfig.TempStore.MEMORY);
        Connection connection = config.createConnection(url);
        try (Statement statement = connection.createStatement()) {
            if (readOnly) {
                statement.execute("PRAGMA query_only = ON");
            } else {
                // WAL is a property of the file: set once by the writer, in effect for every later connection.
                try (ResultSet rs = statement.executeQuery("PRAGMA journal_mode = WAL")) {
                    String mode = rs.next() ? rs.getString(1) : null;
                    if (!"wal".equalsIgnoreCase(mode)) {
                        throw new SQLException("cannot switch to WAL mode, journal_mode is " + mode);
                    }
                }
                statement.execute("PRAGMA synchronous = FULL");
                statement.execute("PRAGMA fullfsync = ON");
                // SQLite enforces REFERENCES only when asked to, per connection (api_keys.tenant, schema V2).
                statement.execute("PRAGMA foreign_keys = ON");
                // Keep the WAL file from staying large after a burst once a checkpoint has reset it.
                statement.execute("PRAGMA journal_size_limit = " + (64L * 1024 * 1024));
                statement.execute("PRAGMA wal_autocheckpoint = " + WalCheckpointer.WRITER_AUTOCHECKPOINT_PAGES);
            }
        } catch (SQLException e) {
            closeQuietly(connection);
            throw e;
        }
        return connection;
    }

    // ---------------------------------------------------------------------------------------------------------
    // writes

    /**
     * Runs {@code work} in one {@code BEGIN IMMEDIATE} transaction on the writer connection and commits it with the
     * given durability (see the class comment). If {@code work} throws, the transaction is rolled back and the same
     * exception is rethrown; if SQLite fails, a {@link StoreException}. Not re-entrant: calling {@code write} from
     * inside {@code work} is a bug and throws {@link IllegalStateException}.
     */
    @Override
    public <R> R write(Durability durability, Function<StoreTx, R> work) {
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(work, "work");
        return transaction(durability, () -> {
            SqliteTx tx = new SqliteTx(this::prepared, name);
            try {
                return work.apply(tx);
            } finally {
                if (!tx.end()) {
                    discardStatements();
                }
            }
        });
    }

    @Override
    public SqlDialect dialect() {
        return SqlDialect.SQLITE;
    }

    /**
     * Runs {@code work} in one FSYNC transaction on the writer connection, exactly like {@link #write}: such writes
     * are acknowledged to a caller, and sharing the one writer keeps this store's promise of a single writing
     * connection (a second one would meet the group commit at SQLite's file lock). An {@link SQLException} of
     * {@code work} becomes a {@link StoreException} about {@code what}, after the rollback.
     */
    @Override
    public <R> R writeSql(String what, SqlWork<R> work) {
        return transaction(Durability.FSYNC, () -> {
            try {
                return work.apply(writer);
            } catch (SQLException e) {
                throw storeException(name, what, e);
            }
        });
    }

    /** One BEGIN IMMEDIATE ... COMMIT around {@code work} under {@link #writeLock}; rolled back if it throws. */
    private <R> R transaction(Durability durability, Supplier<R> work) {
        if (writeLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("JobStore.write is not re-entrant: it was called from inside a write");
        }
        writeLock.lock();
        try {
            ensureOpen();
            begin(durability);
            R result;
            try {
                result = work.get();
            } catch (Throwable t) {
                rollback(t);
                throw t;
            }
            commit();
            return result;
        } finally {
            writeLock.unlock();
        }
    }

    private void begin(Durability durability) {
        try {
            if (transactionMayBeOpen) {
                rollback(null);
            }
            if (synchronous != durability) {
                // Only outside a transaction: SQLite applies it to the commits that follow.
                writerControl.execute(durability == Durability.FSYNC
                        ? "PRAGMA synchronous = FULL"
                        : "PRAGMA synchronous = NORMAL");
                synchronous = durability;
            }
            writerControl.execute("BEGIN IMMEDIATE");
            transactionMayBeOpen = true;
        } catch (SQLException e) {
            throw storeException(name, "begin transaction", e);
        }
    }

    private void commit() {
        try {
            writerControl.execute("COMMIT");
            transactionMayBeOpen = false;
        } catch (SQLException e) {
            rollback(e);
            throw storeException(name, "commit", e);
        }
    }

    /**
     * Rolls back the open transaction. SQLite rolls some failed transactions back by itself (disk full, I/O error),
     * so "no transaction is active" is expected here and ignored.
     */
    private void rollback(Throwable cause) {
        try {
            writerControl.execute("ROLLBACK");
            transactionMayBeOpen = false;
        } catch (SQLException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("no transaction is active")) {
                transactionMayBeOpen = false;
            } else {
                log.warn("Rollback on {} failed; the next write retries it", name, e);
                if (cause != null) {
                    cause.addSuppressed(e);
                }
            }
        }
    }

    /** The writer's statement for {@code sql}, prepared once and reused (called under {@link #writeLock}). */
    private PreparedStatement prepared(String sql) throws SQLException {
        PreparedStatement statement = statements.get(sql);
        if (statement == null) {
            statement = writer.prepareStatement(sql);
            statements.put(sql, statement);
        }
        return statement;
    }

    /**
     * Closes and forgets every cached statement (called under {@link #writeLock}): a statement that could not be
     * cleared at the end of a transaction might still hold another caller's rows, so none is reused.
     */
    private void discardStatements() {
        log.warn("Could not clear the cached statements of {} after a transaction; preparing them again", name);
        for (PreparedStatement statement : statements.values()) {
            closeQuietly(statement);
        }
        statements.clear();
    }

    // ---------------------------------------------------------------------------------------------------------
    // reads

    @Override
    public Optional<Job> find(JobId id) {
        Objects.requireNonNull(id, "id");
        return readSql("find " + id, connection -> {
            try (PreparedStatement find = connection.prepareStatement(SqliteTx.FIND_BY_ID)) {
                find.setLong(1, id.hi());
                find.setLong(2, id.lo());
                return Optional.ofNullable(JobRows.readOne(find));
            }
        });
    }

    @Override
    public List<AttemptRecord> attempts(JobId id, int afterAttempt, int limit) {
        Objects.requireNonNull(id, "id");
        return readSql("attempts of " + id, connection -> {
            List<AttemptRecord> attempts;
            try (PreparedStatement select = connection.prepareStatement(SqliteTx.ATTEMPTS)) {
                select.setLong(1, id.hi());
                select.setLong(2, id.lo());
                select.setInt(3, afterAttempt);
                select.setInt(4, limit);
                attempts = AttemptRows.query(select, AttemptRows::read);
            }
            if (attempts.size() == limit) {
                return attempts;
            }
            // A successful attempt is the job's last, kept in its row: it comes after every row of job_attempts.
            try (PreparedStatement success = connection.prepareStatement(SqliteTx.SUCCESS_OF_JOB)) {
                success.setLong(1, id.hi());
                success.setLong(2, id.lo());
                success.setInt(3, afterAttempt);
                return AttemptRows.withLast(attempts, AttemptRows.query(success, AttemptRows::read));
            }
        });
    }

    @Override
    public List<FinishedAttempt> attemptsFinishedSince(Instant since, int limit) {
        Objects.requireNonNull(since, "since");
        return readSql("attempts finished since " + since, connection -> {
            try (PreparedStatement select = connection.prepareStatement(SqliteTx.ATTEMPTS_SINCE)) {
                select.setLong(1, EpochMillis.millis(since));
                select.setInt(2, limit);
                return AttemptRows.query(select, rs -> new FinishedAttempt(new JobId(rs.getLong(10), rs.getLong(11)),
                        rs.getString(12), AttemptRows.read(rs)));
            }
        });
    }

    @Override
    public List<TargetState> targetStates() {
        return readSql("target states", TargetStateRows::readAll);
    }

    /**
     * The first step of the page query ({@link JobPageQuery}): ids and sizes in seq (= id) order. A tenant's page
     * reads that tenant's rows only (index {@code jobs_by_tenant}), however many jobs other tenants have.
     * {@code length} of a blob is its stored size: SQLite reads no overflow page for it.
     */
    static String listSql(JobQuery query) {
        return JobPageQuery.sizesSql("seq, id_lo", "seq", "length", query);
    }

    /** The second step: the page's rows by seq (the rowid: one lookup each), still of the query's tenant and state. */
    static String rowsSql(JobQuery query, int count) {
        return "SELECT " + (query.payloads() ? JobRows.COLUMNS : JobRows.COLUMNS_WITHOUT_PAYLOAD)
                + " FROM jobs WHERE seq IN (" + "?, ".repeat(count - 1) + "?)" + JobPageQuery.filters(query, " AND ");
    }

    @Override
    public JobPage list(JobQuery query) {
        Objects.requireNonNull(query, "query");
        String sql = listSql(query);
        return readSql("list", connection -> {
            List<RowSize> sizes = new ArrayList<>();
            try (PreparedStatement list = connection.prepareStatement(sql)) {
                int index = 1;
                if (query.after() != null) {
                    list.setLong(index++, query.after().hi());
                }
                JobPageQuery.bindLimit(list, JobPageQuery.bindFilters(list, index, query), query);
                try (ResultSet rs = list.executeQuery()) {
                    while (rs.next()) {
                        sizes.add(JobPageQuery.readSize(rs, new JobId(rs.getLong(1), rs.getLong(2)), 3));
                    }
                }
            }
            return JobPageQuery.page(sizes, query, ids -> rows(connection, query, ids));
        });
    }

    private static List<Job> rows(Connection connection, JobQuery query, List<JobId> ids) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(rowsSql(query, ids.size()))) {
            int index = 1;
            for (JobId id : ids) {
                select.setLong(index++, id.hi());
            }
            JobPageQuery.bindFilters(select, index, query);
            try (ResultSet rs = select.executeQuery()) {
                return JobRows.readAll(rs);
            }
        }
    }

    /**
     * A page of one owner's SCHEDULED claims in id order. {@code jobs_owned} is on (owner) only, but a SQLite index
     * holds the rowid after its columns, and the rowid is {@code seq} = {@link JobId#hi()}: so the index is in
     * fact (owner, seq), and {@code owner = ? AND seq > ? ORDER BY seq} is one range of it, read in order and cut
     * at LIMIT, with no sort of the owner's other claims (SqliteJobStoreTest checks the plan). {@code owner = ?}
     * implies the index's {@code owner IS NOT NULL}, so the partial index qualifies. The state test reads the row,
     * which a claim's tenant, due time and token need anyway. seq order is id order (see {@link JobRows}).
     */
    static final String CLAIMS_OF = "SELECT seq, id_lo, tenant, due_at, token FROM jobs "
            + "WHERE owner = ? AND seq > ? AND state = '" + JobState.SCHEDULED.name() + "' ORDER BY seq LIMIT ?";

    @Override
    public List<Claim> claimsOf(ClaimsOfParams params) {
        String owner = params.owner();
        JobId after = params.after();
        int limit = params.limit();
        return readSql("claimsOf " + owner, connection -> {
            try (PreparedStatement claims = connection.prepareStatement(CLAIMS_OF)) {
                claims.setString(1, owner);
                // Every seq is positive (JobRows), so MIN_VALUE means "from the first".
                claims.setLong(2, after == null ? Long.MIN_VALUE : after.hi());
                claims.setInt(3, limit);
                List<Claim> page = new ArrayList<>();
                try (ResultSet rs = claims.executeQuery()) {
                    while (rs.next()) {
                        page.add(new Claim(new JobId(rs.getLong(1), rs.getLong(2)), rs.getString(3),
                                Instant.ofEpochMilli(rs.getLong(4)), rs.getLong(5)));
                    }
                }
                return page;
            }
        });
    }

    @Override
    public List<PendingCount> countPending(PendingCountParams params) {
        return PendingCountQuery.run(this, SqlDialect.SQLITE, params);
    }

    @Override
    public String kind() {
        return "sqlite";
    }

    /** The largest id in {@code jobs}, or the largest one pruned if that is larger. */
    @Override
    public Optional<JobId> lastJobId() {
        return readSql("lastJobId", connection -> {
            JobId last = null;
            try (Statement statement = connection.createStatement()) {
                try (ResultSet rs = statement.executeQuery("SELECT seq, id_lo FROM jobs ORDER BY seq DESC LIMIT 1")) {
                    if (rs.next()) {
                        last = new JobId(rs.getLong(1), rs.getLong(2));
                    }
                }
                try (ResultSet rs = statement.executeQuery("SELECT seq, id_lo FROM id_high_water")) {
                    if (rs.next() && (last == null || rs.getLong(1) > last.hi())) {
                        last = new JobId(rs.getLong(1), rs.getLong(2));
                    }
                }
            }
            return Optional.ofNullable(last);
        });
    }

    /** Runs {@code work} on a connection of the read pool. */
    @Override
    public <R> R readSql(String what, SqlWork<R> work) {
        Connection connection = borrowReader();
        try {
            return work.apply(connection);
        } catch (SQLException e) {
            throw storeException(name, what, e);
        } finally {
            idleReaders.add(connection);
        }
    }

    private Connection borrowReader() {
        ensureOpen();
        try {
            Connection connection = idleReaders.poll(options.busyTimeout().toMillis(), TimeUnit.MILLISECONDS);
            if (connection == null) {
                throw new StoreException("SQLite store " + name + ": no read connection became free within "
                        + options.busyTimeout() + " (" + allReaders.size() + " in use)");
            }
            if (closed) {
                idleReaders.add(connection);
                ensureOpen();
            }
            return connection;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("SQLite store " + name + ": interrupted while waiting for a read connection", e);
        }
    }

    /** The writer connection's {@code PRAGMA synchronous} (1 = NORMAL, 2 = FULL), for tests of the durability mapping. */
    int synchronousPragma() {
        writeLock.lock();
        try {
            ensureOpen();
            try (ResultSet rs = writerControl.executeQuery("PRAGMA synchronous")) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        } catch (SQLException e) {
            throw storeException(name, "PRAGMA synchronous", e);
        } finally {
            writeLock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** True: the file is locked for this process while the store is open. */
    @Override
    public boolean exclusive() {
        return true;
    }

    /** The file this store lives in. */
    public Path file() {
        return file;
    }

    /** The schema version (the latest migration applied), e.g. {@code "1"}. */
    public String schemaVersion() {
        return schemaVersion;
    }

    /**
     * Checkpoints the WAL into the database file, closes every connection and releases the file lock. Waits for a
     * write in progress; reads still running get a {@link StoreException}. Idempotent.
     */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            checkpointer.close();
            try {
                writerControl.execute("PRAGMA wal_checkpoint(TRUNCATE)");
            } catch (SQLException e) {
                log.warn("WAL checkpoint of {} at close failed; SQLite replays the WAL at the next open", name, e);
            }
            for (PreparedStatement statement : statements.values()) {
                closeQuietly(statement);
            }
            statements.clear();
            closeQuietly(writerControl);
            closeQuietly(writer);
            awaitReaders();
            for (Connection reader : allReaders) {
                closeQuietly(reader);
            }
            fileLock.close();
            log.info("Closed SQLite job store {}", name);
        } finally {
            writeLock.unlock();
        }
    }

    /** Gives reads in flight a moment to hand their connection back before it is closed under them. */
    private void awaitReaders() {
        try {
            for (int returned = 0; returned < allReaders.size(); returned++) {
                if (idleReaders.poll(options.busyTimeout().toMillis(), TimeUnit.MILLISECONDS) == null) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new StoreException("SQLite store " + name + " is closed");
        }
    }

    /**
     * A failure of this store: named by SQLite's result code (e.g. {@code SQLITE_FULL}, {@code SQLITE_CORRUPT}).
     * When the storage itself refuses (disk full, I/O error, read-only file: {@link #storageRefused}) it is a
     * {@link StoreUnavailableException}: the store cannot write at all, so the engine fails the whole batch instead
     * of retrying each operation, readiness says so, and the next successful write (the heartbeat tries every load
     * interval) clears it. An I/O error at commit leaves the outcome unknown: the WAL frames may have reached the file
     * and be replayed at the next open. A value longer than SQLite's limit ({@code SQLITE_TOOBIG}) is the operation's
     * fault: an {@link InvalidDataException}.
     */
    static StoreException storeException(String storeName, String what, SQLException e) {
        String code = e instanceof SQLiteException sqlite ? sqlite.getResultCode().name() : "SQLState " + e.getSQLState();
        String message = SqlFailures.message("SQLite store " + storeName, what, code, e);
        if (storageRefused(code)) {
            return new StoreUnavailableException(message, e, what.equals("commit") && code.startsWith("SQLITE_IOERR"));
        }
        if (e instanceof SQLiteException sqlite && sqlite.getResultCode() == SQLiteErrorCode.SQLITE_TOOBIG) {
            // A value longer than SQLite's limit: that operation's input, not the file, is at fault.
            return new InvalidDataException(null, "a value is larger than the store can keep", -1,
                    new StoreException(message, e));
        }
        return new StoreException(message, e);
    }

    /** SQLite's result codes for a file that cannot be written, whatever is written to it. */
    static boolean storageRefused(String code) {
        return code.equals("SQLITE_FULL") || code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_READONLY")
                || code.startsWith("SQLITE_CANTOPEN");
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            log.debug("Ignoring a failure to close {}", closeable, e);
        }
    }

    @Override
    public String toString() {
        return "SqliteJobStore[" + name + "]";
    }
}
