package dev.hourglass.store.sqlite;

import static dev.hourglass.store.testkit.TestJobs.at;
import static dev.hourglass.store.testkit.TestJobs.hash;
import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.store.jdbc.PendingCountQuery;
import dev.hourglass.store.jdbc.SqlDialect;
import dev.hourglass.store.testkit.JobStoreContract;
import dev.hourglass.store.testkit.TestJobs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store conformance suite on a real SQLite file, plus what only the SQLite store promises. */
class SqliteJobStoreTest extends JobStoreContract {

    private static final AtomicInteger FILES = new AtomicInteger();
    private static final String LATEST_VERSION = "8";

    @TempDir
    Path dir;

    @Override
    protected JobStore openStore() {
        // A directory that does not exist yet: open() creates it.
        return SqliteJobStore.open(dir.resolve("contract-" + FILES.incrementAndGet()).resolve("jobs.db"));
    }

    private SqliteJobStore sqlite() {
        return (SqliteJobStore) store;
    }

    private static Connection raw(Path file) throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    @Override
    protected void setLastDelivery(JobId id, String outcome, String target) {
        try (Connection connection = raw(sqlite().file()); PreparedStatement update = connection.prepareStatement(
                "UPDATE jobs SET last_outcome = ?, last_target = ? WHERE seq = ? AND id_lo = ?")) {
            update.setString(1, outcome);
            update.setString(2, target);
            update.setLong(3, id.hi());
            update.setLong(4, id.lo());
            assertThat(update.executeUpdate()).isEqualTo(1);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    protected Retried retried(JobId id) {
        try (Connection connection = raw(sqlite().file()); PreparedStatement select = connection.prepareStatement(
                "SELECT retried_at, retried_by FROM jobs WHERE seq = ? AND id_lo = ?")) {
            select.setLong(1, id.hi());
            select.setLong(2, id.lo());
            try (ResultSet rs = select.executeQuery()) {
                assertThat(rs.next()).isTrue();
                long at = rs.getLong(1);
                return new Retried(rs.wasNull() ? null : Instant.ofEpochMilli(at), rs.getString(2));
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @Nested
    class ExclusiveUse {

        @Test
        void isExclusive() {
            assertThat(store.exclusive()).isTrue();
        }

        @Test
        void aSecondOpenOfTheSameFileFailsNamingTheHolder() {
            Path file = sqlite().file();

            assertThatThrownBy(() -> SqliteJobStore.open(file))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("is in use by another Hourglass")
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());

            // The failed open did not disturb the store that holds the file.
            NewJob newJob = job().build();
            insertOne(newJob);
            assertThat(store.find(newJob.id())).isPresent();
        }

        @Test
        void theFileIsFreeAgainAfterClose() {
            Path file = sqlite().file();
            store.close();

            store = SqliteJobStore.open(file);

            assertThat(store.exclusive()).isTrue();
        }

        @Test
        void anotherProcessCannotOpenItUntilTheHolderDies() throws Exception {
            Path file = dir.resolve("shared/jobs.db");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    HoldStore.class.getName(), file.toString())
                    .redirectErrorStream(true)
                    .start();
            try {
                BufferedReader out = new BufferedReader(
                        new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
                String line;
                do {
                    line = out.readLine();
                } while (line != null && !line.equals(HoldStore.READY));
                assertThat(line).as("the child process opened the store").isEqualTo(HoldStore.READY);

                assertThatThrownBy(() -> SqliteJobStore.open(file))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("is in use by another Hourglass process (pid " + holder.pid() + ")");

                holder.destroyForcibly(); // kill -9: the OS drops the lock with the process
                assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
                try (SqliteJobStore reopened = SqliteJobStore.open(file)) {
                    assertThat(reopened.list(new JobQuery(null, null, null, 10)).jobs())
                            .as("the job the killed process committed").hasSize(1);
                }
            } finally {
                holder.destroyForcibly();
            }
        }
        @Test
        void anotherProcessCannotOpenItEvenWhenTheLockFileWasDeleted() throws Exception {
            Path file = dir.resolve("shared/jobs.db");
            Process holder = holdInChildProcess(file);
            try {
                Files.delete(StoreLock.lockFileOf(file));

                assertThatThrownBy(() -> SqliteJobStore.open(file))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("is in use by another Hourglass process, although its lock file "
                                + "jobs.db.lock was free");
                assertThatThrownBy(() -> SqliteJobStore.open(file)).as("a retry is refused too")
                        .isInstanceOf(StoreException.class).hasMessageContaining("is in use by another Hourglass");

                holder.destroyForcibly();
                assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
                try (SqliteJobStore reopened = SqliteJobStore.open(file)) {
                    assertThat(reopened.list(new JobQuery(null, null, null, 10)).jobs()).hasSize(1);
                }
            } finally {
                holder.destroyForcibly();
            }
        }

        @Test
        void aSecondStoreInThisProcessCannotOpenItWhenTheLockFileWasDeleted() throws Exception {
            Path file = sqlite().file();
            Files.delete(StoreLock.lockFileOf(file));

            assertThatThrownBy(() -> SqliteJobStore.open(file))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("is in use by another Hourglass store in this process");

            // The refused open did not take the OS lock away from the holder: another process is still refused.
            Process probe = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                    TryOpen.class.getName(), file.toString()).redirectErrorStream(true).start();
            String said = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(said).contains("REFUSED").contains("is in use by another Hourglass process");
            NewJob newJob = job().build();
            insertOne(newJob);
            assertThat(store.find(newJob.id())).isPresent();
        }

        private static String javaBin() {
            return Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }

        private static Process holdInChildProcess(Path file) throws IOException {
            Process holder = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                    HoldStore.class.getName(), file.toString())
                    .redirectErrorStream(true)
                    .start();
            BufferedReader out = new BufferedReader(
                    new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.equals(HoldStore.READY));
            assertThat(line).as("the child process opened the store").isEqualTo(HoldStore.READY);
            return holder;
        }
    }

    /** Tries to open a store in another process and says whether it could. */
    public static final class TryOpen {
        public static void main(String[] args) {
            try (SqliteJobStore store = SqliteJobStore.open(Path.of(args[0]))) {
                System.out.println("OPENED");
            } catch (StoreException e) {
                System.out.println("REFUSED: " + e.getMessage());
            }
        }
    }

    /** The other process of {@link ExclusiveUse#anotherProcessCannotOpenItUntilTheHolderDies}. */
    public static final class HoldStore {
        static final String READY = "HOURGLASS-STORE-OPEN";

        public static void main(String[] args) throws Exception {
            SqliteJobStore store = SqliteJobStore.open(Path.of(args[0]));
            store.write(Durability.FSYNC, tx -> tx.insert(List.of(job().build())));
            System.out.println(READY);
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5)); // until killed
            store.close();
        }
    }

    @Nested
    class Persistence {

        @Test
        void dataAndSchemaVersionSurviveCloseAndReopen() throws SQLException {
            Path file = sqlite().file();
            NewJob full = job().tenant("acme").target("{\"url\":\"https://x.test\"}").payload(new byte[] {1, 2, 3})
                    .timeout(Duration.ofSeconds(9)).idempotency("k", hash("k")).dueIn(5).build();
            NewJob lazyOne = job().dueIn(1).build();
            insertOne(full);
            lazy(tx -> tx.insert(List.of(lazyOne)));
            Job claimed = claim("node-a", at(1), 10, at(0)).getFirst();
            Job run = start(claimed, at(1)).orElseThrow();
            assertThat(sqlite().schemaVersion()).isEqualTo(LATEST_VERSION);
            store.close();

            store = SqliteJobStore.open(file);

            assertThat(sqlite().schemaVersion()).isEqualTo(LATEST_VERSION);
            assertSameJob(get(full.id()), full.toJob());
            assertSameJob(get(lazyOne.id()), run);
            assertThat(store.lastJobId()).contains(lazyOne.id());
            assertThat(finish(run, JobState.SUCCEEDED, null, null, null, at(2))).as("the claim survives").isTrue();
            store.close();
            store = null;
            try (Connection connection = raw(file); Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT version, success FROM flyway_schema_history "
                            + "WHERE version IS NOT NULL ORDER BY installed_rank")) {
                for (String version : List.of("1", "2", "3", "4", "5", "6", "7", "8")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo(version);
                    assertThat(rs.getBoolean(2)).isTrue();
                }
                assertThat(rs.next()).as("each migration ran once, not at every open").isFalse();
            }
        }

        @Test
        void aSchemaNewerThanThisBuildIsRefused() throws SQLException {
            Path file = sqlite().file();
            store.close();
            store = null;
            try (Connection connection = raw(file); Statement statement = connection.createStatement()) {
                statement.executeUpdate("INSERT INTO flyway_schema_history (installed_rank, version, description, "
                        + "type, script, checksum, installed_by, execution_time, success) "
                        + "VALUES (99, '99', 'from the future', 'SQL', 'V99__from_the_future.sql', 0, 'test', 1, 1)");
            }

            assertThatThrownBy(() -> SqliteJobStore.open(file))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("schema version 99")
                    .hasMessageContaining("newer");

            try (Connection connection = raw(file); Statement statement = connection.createStatement()) {
                statement.executeUpdate("DELETE FROM flyway_schema_history WHERE version = '99'");
            }
            store = SqliteJobStore.open(file); // the failed open released the file lock
            assertThat(sqlite().schemaVersion()).isEqualTo(LATEST_VERSION);
        }

        @Test
        void theFileIsInWalModeAndTheCloseCheckpointsIt() throws SQLException {
            Path file = sqlite().file();
            insertOne(job().build());
            store.close();
            store = null;

            try (Connection connection = raw(file); Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("PRAGMA journal_mode")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
            }
            assertThat(file.resolveSibling(file.getFileName() + "-wal"))
                    .satisfiesAnyOf(p -> assertThat(p).doesNotExist(), p -> assertThat(Files.size(p)).isZero());
        }

        @Test
        void lastJobIdRemembersPrunedJobs() {
            NewJob older = job().build();
            insertOne(older);
            Job newest = running("node-a", job(), at(0));
            assertThat(succeed(newest, at(1))).isTrue();

            assertThat(prune(at(2), 10)).isEqualTo(1);

            assertThat(store.find(newest.id())).isEmpty();
            assertThat(store.lastJobId()).contains(newest.id());
        }

        @Test
        void theFsyncAndLazyDurabilitiesSwitchTheSynchronousPragma() {
            lazy(tx -> tx.insert(List.of(job().build())));
            assertThat(sqlite().synchronousPragma()).as("NORMAL").isEqualTo(1);

            fsync(tx -> tx.insert(List.of(job().build())));
            assertThat(sqlite().synchronousPragma()).as("FULL").isEqualTo(2);
        }
    }

    @Nested
    class Schema {

        /** Inserts a row in {@code state} behind the store's back and tries to move it to {@code next}. */
        private void assertTransition(Connection connection, JobState state, JobState next) throws SQLException {
            NewJob newJob = job().build();
            // A RUNNING job has an owner and a terminal one none (two CHECK constraints): keep them satisfied, so
            // that only the trigger can refuse the move.
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO jobs (seq, id_lo, tenant, "
                    + "handler, state, due_at, created_at, updated_at, attempts, max_attempts, backoff_initial_ms, "
                    + "backoff_max_ms, owner) VALUES (?, ?, 't1', 'webhook', ?, 0, 0, 0, 0, 1, 1000, 1000, ?)")) {
                insert.setLong(1, newJob.id().hi());
                insert.setLong(2, newJob.id().lo());
                insert.setString(3, state.name());
                insert.setString(4, state == JobState.RUNNING ? "node-x" : null);
                insert.executeUpdate();
            }
            try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE jobs SET state = ?, owner = ? WHERE seq = ?")) {
                update.setString(1, next.name());
                update.setString(2, next == JobState.RUNNING ? "node-x" : null);
                update.setLong(3, newJob.id().hi());
                boolean allowed = state == next || state.canMoveTo(next);
                if (allowed) {
                    assertThat(update.executeUpdate()).as(state + " -> " + next).isEqualTo(1);
                } else {
                    assertThatThrownBy(update::executeUpdate)
                            .as(state + " -> " + next)
                            .isInstanceOf(SQLException.class)
                            .hasMessageContaining("illegal state transition");
                }
            }
        }

        @Test
        void theTriggerRepeatsTheStateMachineOfJobState() throws SQLException {
            try (Connection connection = raw(sqlite().file())) {
                connection.setAutoCommit(false); // one transaction, rolled back: 25 fsyncs would be slow
                for (JobState state : JobState.values()) {
                    for (JobState next : JobState.values()) {
                        assertTransition(connection, state, next);
                    }
                }
                connection.rollback();
            }
        }

        @Test
        void rawSqlCannotReviveASucceededJob() throws SQLException {
            Job run = running("node-a", job(), at(0));
            assertThat(succeed(run, at(1))).isTrue();

            try (Connection connection = raw(sqlite().file());
                    PreparedStatement update = connection.prepareStatement(
                            "UPDATE jobs SET state = 'RUNNING' WHERE seq = ?")) {
                update.setLong(1, run.id().hi());
                assertThatThrownBy(update::executeUpdate).hasMessageContaining("illegal state transition");
            }
            assertThat(get(run.id()).state()).isEqualTo(JobState.SUCCEEDED);
        }

        @Test
        void unknownStatesAndNegativeAttemptsAreRefused() throws SQLException {
            insertOne(job().build());

            try (Connection connection = raw(sqlite().file()); Statement statement = connection.createStatement()) {
                assertThatThrownBy(() -> statement.executeUpdate("INSERT INTO jobs (seq, id_lo, tenant, handler, "
                        + "state, due_at, created_at, updated_at, attempts, max_attempts, backoff_initial_ms, "
                        + "backoff_max_ms) VALUES (1, 1, 't1', 'webhook', 'PAUSED', 0, 0, 0, 0, 1, 1000, 1000)"))
                        .hasMessageContaining("CHECK");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET state = 'PAUSED'"))
                        .as("the trigger fires first").hasMessageContaining("illegal state transition");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET attempts = -1"))
                        .hasMessageContaining("CHECK");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET due_at = 'soon'"))
                        .as("STRICT table").isInstanceOf(SQLException.class);
            }
        }

        /**
         * Every CHECK of the jobs and id_high_water tables, by the name PostgreSQL's schema gives it too: raw SQL that
         * breaks one is refused, and the error names it.
         */
        @Test
        void rawSqlThatBreaksANamedCheckIsRefusedNamingIt() throws SQLException {
            Job scheduled = insertOne(job().build());
            Job run = running("node-a", job(), at(0));
            Job done = running("node-a", job(), at(0));
            assertThat(succeed(done, at(1))).isTrue();

            try (Connection connection = raw(sqlite().file()); Statement statement = connection.createStatement()) {
                assertRefused(statement, "jobs_state_known", "INSERT INTO jobs (seq, id_lo, tenant, handler, state, "
                        + "due_at, created_at, updated_at, attempts, max_attempts, backoff_initial_ms, backoff_max_ms) "
                        + "VALUES (1, 1, 't1', 'webhook', 'PAUSED', 0, 0, 0, 0, 1, 1000, 1000)");
                assertRefused(statement, "jobs_attempts_non_negative",
                        "UPDATE jobs SET attempts = -1 WHERE seq = " + scheduled.id().hi());
                assertRefused(statement, "jobs_max_attempts_positive",
                        "UPDATE jobs SET max_attempts = 0 WHERE seq = " + scheduled.id().hi());
                assertRefused(statement, "jobs_running_has_owner",
                        "UPDATE jobs SET owner = NULL WHERE seq = " + run.id().hi());
                assertRefused(statement, "jobs_running_has_owner", "UPDATE jobs SET state = 'RUNNING' WHERE seq = "
                        + scheduled.id().hi());
                assertRefused(statement, "jobs_terminal_holds_no_claim",
                        "UPDATE jobs SET state = 'SUCCEEDED' WHERE seq = " + run.id().hi());
                assertRefused(statement, "jobs_terminal_holds_no_claim",
                        "UPDATE jobs SET owner = 'node-a' WHERE seq = " + done.id().hi());
                assertRefused(statement, "id_high_water_one_row",
                        "INSERT INTO id_high_water (id, seq, id_lo) VALUES (2, 1, 1)");
            }
            assertSameJob(get(run.id()), run);
            assertThat(get(done.id()).owner()).isNull();
        }

        private static void assertRefused(Statement statement, String constraint, String sql) {
            assertThatThrownBy(() -> statement.executeUpdate(sql))
                    .as(sql)
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("CHECK constraint failed: " + constraint);
        }

        private List<String> plan(String sql, Object... parameters) throws SQLException {
            try (Connection connection = raw(sqlite().file());
                    PreparedStatement explain = connection.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
                for (int i = 0; i < parameters.length; i++) {
                    explain.setObject(i + 1, parameters[i]);
                }
                List<String> details = new ArrayList<>();
                try (ResultSet rs = explain.executeQuery()) {
                    while (rs.next()) {
                        details.add(rs.getString("detail"));
                    }
                }
                return details;
            }
        }

        /**
         * The pending-jobs gauges' count of the near term reads a range of jobs_claimable (the free jobs) and the
         * entries of jobs_owned (the held ones), never the table.
         */
        @Test
        void theBoundedPendingCountReadsTheClaimableRangeAndTheOwnedIndex() throws SQLException {
            List<String> free = plan(PendingCountQuery.FREE_DUE_UNTIL, 0L, 1L, 2L, 3L, 4L);
            List<String> held = plan(PendingCountQuery.heldDueUntil(SqlDialect.SQLITE), 0L, 1L, 2L, 3L, 4L);

            assertThat(free).anySatisfy(line -> assertThat(line).contains("USING INDEX jobs_claimable (due_at<?)"));
            assertThat(held).anySatisfy(line -> assertThat(line).contains("USING INDEX jobs_owned"));
            assertThat(free).noneSatisfy(line -> assertThat(line).startsWith("SCAN jobs"));
        }

        @Test
        void theClaimWalksTheClaimableIndex() throws SQLException {
            List<String> plan = plan(SqliteTx.CLAIM, "node-a", 0L, 0L, 100);

            assertThat(plan).anySatisfy(line -> assertThat(line).contains("USING INDEX jobs_claimable"));
            assertThat(plan).noneSatisfy(line -> assertThat(line).contains("TEMP B-TREE"));
            assertThat(plan).noneSatisfy(line -> assertThat(line).startsWith("SCAN jobs"));
        }

        /**
         * A page of a node's claims is one range of {@code jobs_owned}, whose entries end with the rowid (seq): read
         * in id order and cut at LIMIT, never a sort of all the node's claims nor a scan of the table.
         */
        @Test
        void aPageOfClaimsIsOneRangeOfTheOwnedIndexInIdOrder() throws SQLException {
            List<String> plan = plan(SqliteJobStore.CLAIMS_OF, "node-a", 5L, 1000);

            assertThat(plan).as(plan.toString())
                    .anySatisfy(line -> assertThat(line).contains("USING INDEX jobs_owned (owner=? AND rowid>?)"));
            assertThat(plan).noneSatisfy(line -> assertThat(line).contains("TEMP B-TREE"));
            assertThat(plan).noneSatisfy(line -> assertThat(line).startsWith("SCAN jobs"));
        }

        /** One tenant's page reads that tenant's rows, not every job in id order. */
        @Test
        void aTenantsPageUsesTheTenantIndex() throws SQLException {
            JobId after = new JobId(1L, 2L);
            assertThat(plan(SqliteJobStore.listSql(new JobQuery("t1", null, null, 10)), "t1", 11))
                    .anySatisfy(l -> assertThat(l).contains("jobs_by_tenant"));
            assertThat(plan(SqliteJobStore.listSql(new JobQuery("t1", JobState.SCHEDULED, after, 10)), 1L, "t1",
                    "SCHEDULED", 11)).anySatisfy(l -> assertThat(l).contains("jobs_by_tenant"));
        }

        @Test
        void everyOtherQueryUsesItsIndex() throws SQLException {
            assertThat(plan(SqliteTx.FIND_BY_ID, 1L, 2L)).anySatisfy(l -> assertThat(l).contains("INTEGER PRIMARY KEY"));
            assertThat(plan(SqliteTx.FIND_BY_IDEMPOTENCY_KEY, "t1", "k"))
                    .anySatisfy(l -> assertThat(l).contains("jobs_idem"));
            assertThat(plan(SqliteTx.FIRST_OWNER)).anySatisfy(l -> assertThat(l).contains("jobs_owned"));
            assertThat(plan(SqliteTx.NEXT_OWNER, "node-a")).anySatisfy(l -> assertThat(l).contains("jobs_owned"));
            assertThat(plan(SqliteTx.UNOWN_SCHEDULED, 0L, "node-a", "SCHEDULED"))
                    .anySatisfy(l -> assertThat(l).contains("jobs_owned"));
            assertThat(plan(SqliteTx.HAND_BACK_RUNNING, 1, "FAILED", "SCHEDULED", 0L, "x", "node-a", "RUNNING"))
                    .anySatisfy(l -> assertThat(l).contains("jobs_owned"));
            assertThat(plan(SqliteTx.PRUNE, 0L, "SUCCEEDED", "FAILED", "CANCELLED", 100))
                    .anySatisfy(l -> assertThat(l).contains("jobs_finished"))
                    .noneSatisfy(l -> assertThat(l).contains("TEMP B-TREE"));
        }
    }

    @Nested
    class UpgradeToVersion4 {

        /** A file at the released schema V3 exactly: Flyway stopped at version 3 of the store's own scripts. */
        private Path versionThreeFile(String name) {
            Path file = dir.resolve(name);
            Flyway.configure(getClass().getClassLoader()).loggers("slf4j")
                    .dataSource("jdbc:sqlite:" + file, null, null)
                    .locations(SqliteMigrations.LOCATION).target("3").load().migrate();
            return file;
        }

        /** A jobs row as V3 defines it, written behind any store's back; every column given. */
        private static JobId insertV3Row(Connection connection, JobState state, String owner, long token,
                Long finishedAt, String lastError) throws SQLException {
            JobId id = TestJobs.nextId();
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO jobs (seq, id_lo, tenant, "
                    + "handler, target, payload, state, due_at, created_at, updated_at, finished_at, attempts, "
                    + "max_attempts, backoff_initial_ms, backoff_max_ms, timeout_ms, idem_key, request_hash, "
                    + "last_error, owner, token) VALUES (?, ?, 'acme', 'webhook', ?, ?, ?, ?, ?, ?, ?, ?, 3, 1000, "
                    + "60000, ?, ?, ?, ?, ?, ?)")) {
                int p = 1;
                insert.setLong(p++, id.hi());
                insert.setLong(p++, id.lo());
                insert.setString(p++, "{\"url\":\"https://x.test/" + state + "\"}");
                insert.setBytes(p++, new byte[] {1, 2, (byte) state.ordinal()});
                insert.setString(p++, state.name());
                insert.setLong(p++, 5_000L + state.ordinal());
                insert.setLong(p++, 1_000L);
                insert.setLong(p++, 2_000L + state.ordinal());
                insert.setObject(p++, finishedAt);
                insert.setInt(p++, state == JobState.SCHEDULED && owner == null ? 0 : 1);
                insert.setLong(p++, 30_000L);
                insert.setString(p++, "key-" + state + "-" + owner);
                insert.setBytes(p++, hash("request " + state + owner));
                insert.setString(p++, lastError);
                insert.setString(p++, owner);
                insert.setLong(p++, token);
                insert.executeUpdate();
            }
            return id;
        }

        /** Every row of {@code table}, every column, in rowid order (blobs as hex, to compare by value). */
        private static List<List<Object>> rows(Connection connection, String table) throws SQLException {
            List<List<Object>> rows = new ArrayList<>();
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT * FROM " + table + " ORDER BY rowid")) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int c = 1; c <= columns; c++) {
                        Object value = rs.getObject(c);
                        row.add(value instanceof byte[] bytes ? HexFormat.of().formatHex(bytes) : value);
                    }
                    rows.add(row);
                }
            }
            return rows;
        }

        /** The indexes and triggers of the file, by name, with the SQL that made them. */
        private static List<String> indexesAndTriggers(Connection connection) throws SQLException {
            List<String> objects = new ArrayList<>();
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT type, name, tbl_name, sql FROM sqlite_master "
                            + "WHERE type IN ('index', 'trigger') ORDER BY name")) {
                while (rs.next()) {
                    objects.add(rs.getString(1) + " " + rs.getString(2) + " on " + rs.getString(3) + ": "
                            + rs.getString(4));
                }
            }
            return objects;
        }

        @Test
        void aVersion3FileWithJobsInEveryStateKeepsEveryRowAndIndex() throws SQLException {
            store.close();
            store = null;
            Path file = versionThreeFile("released-v3.db");
            JobId free;
            JobId claimed;
            JobId runningJob;
            List<List<Object>> jobs;
            List<List<Object>> nodes;
            List<List<Object>> highWater;
            List<String> schemaObjects;
            try (Connection connection = raw(file); Statement statement = connection.createStatement()) {
                free = insertV3Row(connection, JobState.SCHEDULED, null, 0, null, null);
                claimed = insertV3Row(connection, JobState.SCHEDULED, "node-a", 3, null, "HTTP 503");
                runningJob = insertV3Row(connection, JobState.RUNNING, "node-a", 4, null, null);
                insertV3Row(connection, JobState.SUCCEEDED, null, 5, 9_000L, null);
                insertV3Row(connection, JobState.FAILED, null, 6, 9_001L, "HTTP 400");
                insertV3Row(connection, JobState.CANCELLED, null, 7, 9_002L, null);
                statement.executeUpdate("INSERT INTO nodes (node, lease_until) VALUES ('node-a', 99000)");
                statement.executeUpdate("INSERT INTO id_high_water (id, seq, id_lo) VALUES (1, 42, -7)");
                jobs = rows(connection, "jobs");
                nodes = rows(connection, "nodes");
                highWater = rows(connection, "id_high_water");
                schemaObjects = indexesAndTriggers(connection);
            }
            assertThat(jobs).hasSize(JobState.values().length + 1);

            store = SqliteJobStore.open(file);

            assertThat(sqlite().schemaVersion()).isEqualTo(LATEST_VERSION);
            assertThat(get(free).state()).isEqualTo(JobState.SCHEDULED);
            assertThat(get(claimed).owner()).isEqualTo("node-a");
            Job run = get(runningJob);
            assertThat(finish(run, JobState.SUCCEEDED, null, null, null, at(1))).as("the claim survives").isTrue();
            store.close();
            store = null;
            try (Connection connection = raw(file)) {
                List<List<Object>> after = rows(connection, "jobs");
                assertThat(after).hasSameSizeAs(jobs);
                for (int i = 0; i < jobs.size(); i++) {
                    // V5 added trace_parent, V6 last_outcome, last_target, retried_at, retried_by, last_node,
                    // last_started_at, last_status and last_duration_us, the last columns: NULL for every job of a
                    // version 3 file.
                    List<Object> row = after.get(i);
                    assertThat(row).as("row " + i).hasSize(jobs.get(i).size() + 9);
                    assertThat(row.subList(jobs.get(i).size(), row.size())).as("row " + i).containsOnlyNulls();
                    if (!row.get(0).equals(runningJob.hi())) {
                        assertThat(row.subList(0, jobs.get(i).size())).as("row " + i).isEqualTo(jobs.get(i));
                    }
                }
                assertThat(rows(connection, "nodes")).isEqualTo(nodes);
                assertThat(rows(connection, "id_high_water")).isEqualTo(highWater);
                // V6's tables (the delivery history, the target states) and V7's (schedules) bring indexes of their
                // own.
                assertThat(indexesAndTriggers(connection).stream()
                        .filter(o -> !o.contains(" on job_attempts:") && !o.contains(" on target_states:")
                                && !o.contains(" on schedules:")).toList())
                        .as("the indexes and the trigger, as they were").isEqualTo(schemaObjects);
            }
        }

        @Test
        void aRowThatBreaksANewCheckStopsTheUpgradeAndLeavesTheFileAtVersion3() throws SQLException {
            store.close();
            store = null;
            Path file = versionThreeFile("hand-edited-v3.db");
            JobId broken;
            List<List<Object>> jobs;
            try (Connection connection = raw(file)) {
                insertV3Row(connection, JobState.SCHEDULED, null, 0, null, null);
                broken = insertV3Row(connection, JobState.SUCCEEDED, "node-a", 1, 9_000L, null);
                jobs = rows(connection, "jobs");
            }

            assertThatThrownBy(() -> SqliteJobStore.open(file))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("cannot migrate the schema of " + file)
                    .hasMessageContaining("jobs_terminal_holds_no_claim");

            try (Connection connection = raw(file); Statement statement = connection.createStatement()) {
                assertThat(rows(connection, "jobs")).isEqualTo(jobs);
                try (ResultSet rs = statement.executeQuery("SELECT max(version + 0) FROM flyway_schema_history "
                        + "WHERE success = 1")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(3);
                }
                statement.executeUpdate("UPDATE jobs SET owner = NULL WHERE seq = " + broken.hi());
            }
            store = SqliteJobStore.open(file); // the failed open released the file lock
            assertThat(sqlite().schemaVersion()).isEqualTo(LATEST_VERSION);
            assertThat(get(broken).state()).isEqualTo(JobState.SUCCEEDED);
        }
    }

    @Nested
    class SqliteTransactions {

        @Test
        void aConstraintFailureRollsBackTheWholeBatchAndBecomesAStoreException() {
            NewJob first = job().build();
            NewJob second = job().build();
            NewJob sameIdAsSecond = job().id(second.id()).build();

            assertThatThrownBy(() -> insert(first, second, sameIdAsSecond))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining(sqlite().file().toString())
                    .hasMessageContaining("SQLITE_CONSTRAINT");

            assertThat(store.find(first.id())).isEmpty();
            assertThat(store.find(second.id())).isEmpty();
            assertThat(insert(first, second)).hasSize(2);
        }

        /** A full disk, for real as far as SQLite is concerned: the file may not grow past its current pages. */
        @Test
        void aFullDiskIsAStoreThatCannotWriteUntilAWriteSucceedsAgain() {
            long pages = sqlite().writeSql("page count", c -> {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA page_count")) {
                    rs.next();
                    long count = rs.getLong(1);
                    st.execute("PRAGMA max_page_count = " + count);
                    return count;
                }
            });
            NewJob big = job().payload(new byte[256 * 1024]).build();

            assertThatThrownBy(() -> insert(big))
                    .isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("SQLITE_FULL")
                    .satisfies(e -> assertThat(((StoreUnavailableException) e).outcomeUnknown()).isFalse());
            assertThat(store.find(big.id())).isEmpty();

            sqlite().writeSql("room again", c -> {
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA max_page_count = " + (pages + 1_000));
                }
                return null;
            });
            assertThat(insert(big)).hasSize(1);
        }

        @Test
        void onlyFailuresOfTheStorageItselfMeanTheStoreCannotWrite() {
            assertThat(SqliteJobStore.storageRefused("SQLITE_FULL")).isTrue();
            assertThat(SqliteJobStore.storageRefused("SQLITE_IOERR_FSYNC")).isTrue();
            assertThat(SqliteJobStore.storageRefused("SQLITE_READONLY")).isTrue();
            assertThat(SqliteJobStore.storageRefused("SQLITE_CONSTRAINT_UNIQUE")).isFalse();
            assertThat(SqliteJobStore.storageRefused("SQLITE_TOOBIG")).isFalse();
        }

        @Test
        void writeIsNotReentrant() {
            assertThatThrownBy(() -> fsync(tx -> fsync(inner -> null)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("re-entrant");

            String result = fsync(tx -> "usable");
            assertThat(result).isEqualTo("usable");
        }

        @Test
        void aTransactionCannotBeUsedAfterItsWrite() {
            AtomicReference<StoreTx> escaped = new AtomicReference<>();
            fsync(tx -> {
                escaped.set(tx);
                return null;
            });

            assertThatThrownBy(() -> escaped.get().insert(List.of(job().build())))
                    .isInstanceOf(IllegalStateException.class);
        }

        @Test
        void aRetryWithoutADueTimeIsRefused() {
            Job run = running("node-a", job(), at(0));

            assertThatThrownBy(() -> lazy(tx -> tx.finish(List.of(new FinishRun(run.id(), "node-a",
                    run.fencingToken(), JobState.SCHEDULED, null, null, "e", at(1))))))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(get(run.id()).state()).isEqualTo(JobState.RUNNING);
        }

        /**
         * The writer's statements are cached: a finish batch refused half-way must not leave the runs bound before
         * the refusal in the cached statement, where the next finish batch would execute them too.
         */
        @Test
        void aRefusedFinishBatchLeavesNothingForTheNextBatch() {
            Job first = running("node-a", job(), at(0));
            Job bad = running("node-a", job(), at(0));
            Job next = running("node-a", job(), at(0));

            assertThatThrownBy(() -> lazy(tx -> tx.finish(List.of(
                    new FinishRun(first.id(), "node-a", first.fencingToken(), JobState.SUCCEEDED, null, null, null,
                            at(1)),
                    new FinishRun(bad.id(), "node-a", bad.fencingToken(), JobState.SCHEDULED, null, null, "e",
                            at(1))))))
                    .isInstanceOf(IllegalArgumentException.class);

            List<Boolean> finished = lazy(tx -> tx.finish(List.of(new FinishRun(next.id(), "node-a",
                    next.fencingToken(), JobState.SUCCEEDED, null, null, null, at(2)))));

            assertThat(finished).containsExactly(true);
            assertThat(get(first.id()).state()).as("the refused batch's first run").isEqualTo(JobState.RUNNING);
        }

        @Test
        void aClosedStoreRefusesReadsAndWrites() {
            store.close();

            assertThatThrownBy(() -> fsync(tx -> null)).isInstanceOf(StoreException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(() -> store.find(TestJobs.nextId())).isInstanceOf(StoreException.class);
            store.close(); // idempotent
        }

        @Test
        void readersRunConcurrentlyWithTheWriter() throws Exception {
            List<JobId> written = new ArrayList<>();
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger reads = new AtomicInteger();
            try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> futures = new ArrayList<>();
                for (int r = 0; r < 8; r++) {
                    futures.add(readers.submit(() -> {
                        while (!done.get()) {
                            store.list(new JobQuery(null, null, null, 50));
                            store.lastJobId();
                            reads.incrementAndGet();
                        }
                        return null;
                    }));
                }
                // The readers stop in `finally`: if the writer fails, the executor's close() must not wait forever.
                try {
                    for (int i = 0; i < 100; i++) {
                        NewJob newJob = job().dueIn(i).build();
                        written.add(newJob.id());
                        store.write(i % 2 == 0 ? Durability.FSYNC : Durability.LAZY,
                                tx -> tx.insert(List.of(newJob)));
                        assertThat(store.find(newJob.id())).as("a committed write is visible at once").isPresent();
                    }
                } finally {
                    done.set(true);
                }
                for (Future<?> future : futures) {
                    future.get(30, TimeUnit.SECONDS);
                }
            }
            assertThat(reads.get()).isPositive();
            assertThat(store.lastJobId()).contains(written.getLast());
        }
    }

    @Nested
    class Options {

        @Test
        void invalidOptionsAreRefusedNamingTheField() {
            assertThatThrownBy(() -> SqliteOptions.DEFAULTS.withReadConnections(0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("readConnections");
            assertThatThrownBy(() -> SqliteOptions.DEFAULTS.withBusyTimeout(Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("busyTimeout");
            assertThatThrownBy(() -> SqliteOptions.DEFAULTS.withCacheSizeKib(1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cacheSizeKib");
        }

        @Test
        void aStoreWithOneReaderStillServesConcurrentReads() throws Exception {
            try (SqliteJobStore small = SqliteJobStore.open(dir.resolve("small.db"),
                    SqliteOptions.DEFAULTS.withReadConnections(1))) {
                small.write(Durability.FSYNC, tx -> tx.insert(List.of(job().build())));
                try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<Future<Integer>> sizes = new ArrayList<>();
                    for (int i = 0; i < 20; i++) {
                        sizes.add(readers.submit(() -> small.list(new JobQuery(null, null, null, 10)).jobs().size()));
                    }
                    for (Future<Integer> size : sizes) {
                        assertThat(size.get(30, TimeUnit.SECONDS)).isEqualTo(1);
                    }
                }
            }
        }
    }
}
