package dev.hourglass.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.InvalidJobException;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.testkit.TestJobs;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transactional enqueue on a real PostgreSQL: {@link Hourglass#scheduleInTransaction} inside the caller's own JDBC
 * transaction (a plain connection whose search path does not lead to the store's schema), and the LISTEN/NOTIFY
 * announcement that lets a node claim such a job at once instead of at its next horizon round. The engines run on
 * the real clock.
 */
class TransactionalEnqueueTest {
    /** Long enough that a job firing within a second or two cannot have been found by a regular round. */
    private static final Duration SLOW_ROUNDS = Duration.ofSeconds(10);

    private final List<String> schemas = new ArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final Map<JobId, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final List<String> earlyFirings = new CopyOnWriteArrayList<>();
    private String schema;
    private PostgresJobStore store;

    @BeforeEach
    void openStore() throws SQLException {
        store = openStore(TestDatabase.newSchemaName());
        schema = store.options().schema();
        try (Connection connection = TestDatabase.raw(schema); Statement statement = connection.createStatement()) {
            // The caller's own table, next to Hourglass's (any schema of the database would do).
            statement.execute("CREATE TABLE orders (id integer PRIMARY KEY)");
        }
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
        schemas.forEach(TestDatabase::dropSchema);
        assertThat(earlyFirings).as("jobs fired before their due time").isEmpty();
    }

    private PostgresJobStore openStore(String schemaName) {
        schemas.add(schemaName);
        PostgresJobStore opened = PostgresJobStore.open(TestDatabase.options(schemaName));
        toClose.add(opened);
        return opened;
    }

    private Hourglass engine(Duration loadInterval) {
        EngineConfig config = EngineConfig.builder("node-" + toClose.size()).loadInterval(loadInterval)
                .leaseTtl(Duration.ofSeconds(30)).shutdownGrace(Duration.ofSeconds(5)).build();
        Hourglass engine = Hourglass.builder()
                .store(store, false)
                .config(config)
                .handler("work", ctx -> {
                    if (Instant.now().isBefore(ctx.dueAt())) {
                        earlyFirings.add(ctx.id() + " due " + ctx.dueAt());
                    }
                    runs.computeIfAbsent(ctx.id(), id -> new AtomicInteger()).incrementAndGet();
                    return Outcome.succeeded();
                })
                .build();
        toClose.add(engine);
        return engine;
    }

    /** The caller's connection: its own, outside the store's pool, in a transaction, default search path. */
    private Connection callerTx() throws SQLException {
        Connection connection = DriverManager.getConnection(TestDatabase.URL, TestDatabase.USER,
                TestDatabase.PASSWORD);
        connection.setAutoCommit(false);
        toClose.add(connection);
        return connection;
    }

    private void insertOrder(Connection tx, int id) throws SQLException {
        try (PreparedStatement insert = tx.prepareStatement("INSERT INTO " + schema + ".orders (id) VALUES (?)")) {
            insert.setInt(1, id);
            insert.executeUpdate();
        }
    }

    private long count(String table) throws SQLException {
        try (Connection connection = TestDatabase.raw(schema); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static JobRequest work(String text) {
        return JobRequest.of("work", text.getBytes(StandardCharsets.UTF_8));
    }

    private int runsOf(JobId id) {
        AtomicInteger n = runs.get(id);
        return n == null ? 0 : n.get();
    }

    private static void quietPeriod(Duration duration) {
        await().pollDelay(duration).atMost(duration.plusSeconds(1)).until(() -> true);
    }

    @Test
    void aJobScheduledInACommittedTransactionExistsAndFiresOnce() throws Exception {
        Hourglass engine = engine(Duration.ofMillis(200));
        Connection tx = callerTx();
        insertOrder(tx, 42);
        InsertResult result = engine.scheduleInTransaction(tx, work("order 42"), When.after(Duration.ofMillis(500)));
        assertThat(result).isInstanceOf(InsertResult.Created.class);
        JobId id = result.job().id();
        assertThat(result.job().owner()).as("unowned: the caller may still roll back").isNull();
        assertThat(store.find(id)).as("invisible before the caller commits").isEmpty();
        assertThat(tx.getAutoCommit()).isFalse();

        tx.commit();
        assertThat(store.find(id)).isPresent();
        assertThat(count(schema + ".orders")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engine.getStatus(id).map(Job::state).orElse(null) == JobState.SUCCEEDED);
        quietPeriod(Duration.ofMillis(500));
        assertThat(runsOf(id)).isEqualTo(1);
    }

    @Test
    void aRolledBackTransactionLeavesNoJobAndNothingFires() throws Exception {
        Hourglass engine = engine(Duration.ofMillis(100));
        Connection tx = callerTx();
        insertOrder(tx, 7);
        JobId id = engine.scheduleInTransaction(tx, work("order 7"), When.after(Duration.ZERO)).job().id();
        tx.rollback();

        quietPeriod(Duration.ofSeconds(1)); // ten horizon rounds
        assertThat(store.find(id)).isEmpty();
        assertThat(count(schema + ".jobs")).isZero();
        assertThat(count(schema + ".orders")).isZero();
        assertThat(runs).isEmpty();
        // The connection is still the caller's, and usable.
        insertOrder(tx, 8);
        tx.commit();
        assertThat(count(schema + ".orders")).isEqualTo(1);
    }

    @Test
    void aJobCommittedDueNowFiresLongBeforeTheNextHorizonRound() throws Exception {
        Hourglass engine = engine(SLOW_ROUNDS); // the next regular round is 10 s after build()
        Connection tx = callerTx();
        InsertResult result = engine.scheduleInTransaction(tx, work("now"), When.after(Duration.ofMillis(100)));
        JobId id = result.job().id();
        tx.commit();
        long committed = System.nanoTime();

        await().atMost(Duration.ofSeconds(2)).until(() -> runsOf(id) == 1);
        assertThat(TestDatabase.elapsedSince(committed)).isLessThan(SLOW_ROUNDS.dividedBy(2));
    }

    @Test
    void aJobCommittedWithAnotherNodeListeningIsClaimedByOneNodeAndFiresOnce() throws Exception {
        Hourglass scheduler = engine(SLOW_ROUNDS);
        Hourglass other = engine(SLOW_ROUNDS);
        List<JobId> ids = new ArrayList<>();
        Connection tx = callerTx();
        for (int i = 0; i < 20; i++) {
            ids.add(scheduler.scheduleInTransaction(tx, work("job " + i), When.after(Duration.ofMillis(200))).job().id());
        }
        tx.commit();

        await().atMost(Duration.ofSeconds(3)).until(() -> ids.stream().allMatch(id -> runsOf(id) >= 1));
        quietPeriod(Duration.ofMillis(500));
        assertThat(ids).allSatisfy(id -> assertThat(runsOf(id)).isEqualTo(1));
        assertThat(other.getStatus(ids.getFirst())).isPresent();
    }

    @Test
    void anInvalidRequestIsRefusedAndTheCallersTransactionIsUntouched() throws Exception {
        Hourglass engine = engine(Duration.ofMillis(100));
        Connection tx = callerTx();
        insertOrder(tx, 1);

        assertThatThrownBy(() -> engine.scheduleInTransaction(tx, JobRequest.of("no-such-handler", null), When.after(Duration.ofSeconds(1))))
                .isInstanceOf(InvalidJobException.class)
                .satisfies(e -> assertThat(((InvalidJobException) e).field()).isEqualTo("handler"));
        assertThatThrownBy(() -> engine.scheduleInTransaction(tx, work("x"), When.after(Duration.ofSeconds(-1))))
                .isInstanceOf(InvalidJobException.class)
                .satisfies(e -> assertThat(((InvalidJobException) e).field()).isEqualTo("delay"));
        assertThatThrownBy(() -> engine.scheduleInTransaction(tx, work("x").withMaxAttempts(0), When.at(Instant.now().plusSeconds(5))))
                .isInstanceOf(InvalidJobException.class)
                .satisfies(e -> assertThat(((InvalidJobException) e).field()).isEqualTo("maxAttempts"));

        // Still in the same transaction, which PostgreSQL has not aborted: it goes on and commits.
        assertThat(tx.getAutoCommit()).isFalse();
        insertOrder(tx, 2);
        tx.commit();
        assertThat(count(schema + ".orders")).isEqualTo(2);
        assertThat(count(schema + ".jobs")).isZero();
    }

    @Test
    void anAutocommitConnectionIsRefusedBeforeAnythingIsStored() throws Exception {
        Hourglass engine = engine(Duration.ofMillis(100));
        Connection connection = callerTx();
        connection.setAutoCommit(true);

        assertThatThrownBy(() -> engine.scheduleInTransaction(connection, work("x"), When.after(Duration.ZERO)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("autocommit");
        assertThat(connection.getAutoCommit()).as("left as the caller set it").isTrue();
        assertThat(count(schema + ".jobs")).isZero();
    }

    @Test
    void idempotencyKeysBehaveAsWithScheduleInsideTheCallersTransaction() throws Exception {
        Hourglass engine = engine(Duration.ofMillis(200));
        JobRequest request = work("x").withIdempotencyKey("order-42");

        // A key committed by schedule(): the same request is a duplicate, another one a conflict.
        InsertResult first = engine.schedule(request, When.after(Duration.ofMinutes(5)));
        Connection tx = callerTx();
        InsertResult again = engine.scheduleInTransaction(tx, request, When.after(Duration.ofMinutes(5)));
        InsertResult other = engine.scheduleInTransaction(tx, work("y").withIdempotencyKey("order-42"), When.after(Duration.ofMinutes(5)));
        assertThat(again).isInstanceOf(InsertResult.Duplicate.class);
        assertThat(again.job().id()).isEqualTo(first.job().id());
        assertThat(other).isInstanceOf(InsertResult.Conflict.class);
        assertThat(other.job().id()).isEqualTo(first.job().id());
        tx.commit();

        // A key taken earlier in the same transaction: the transaction sees its own job.
        Connection tx2 = callerTx();
        InsertResult created = engine.scheduleInTransaction(tx2, work("z").withIdempotencyKey("k2"), When.after(Duration.ofMinutes(5)));
        InsertResult duplicate = engine.scheduleInTransaction(tx2, work("z").withIdempotencyKey("k2"), When.after(Duration.ofMinutes(5)));
        assertThat(created).isInstanceOf(InsertResult.Created.class);
        assertThat(duplicate).isInstanceOf(InsertResult.Duplicate.class);
        assertThat(duplicate.job().id()).isEqualTo(created.job().id());

        // A rollback frees the key again.
        tx2.rollback();
        InsertResult afterRollback = engine.schedule(work("z").withIdempotencyKey("k2"), When.after(Duration.ofMinutes(5)));
        assertThat(afterRollback).isInstanceOf(InsertResult.Created.class);
        assertThat(afterRollback.job().id()).isNotEqualTo(created.job().id());
        assertThat(count(schema + ".jobs")).isEqualTo(2);
    }

    @Test
    void aKeyHeldByAnUncommittedTransactionMakesTheSecondWaitThenAnswerDuplicate() throws Exception {
        Hourglass engine = engine(Duration.ofMillis(200));
        JobRequest request = work("x").withIdempotencyKey("k");
        Connection first = callerTx();
        InsertResult created = engine.scheduleInTransaction(first, request, When.after(Duration.ofMinutes(5)));

        Connection second = callerTx();
        CompletableFuture<InsertResult> waiting = CompletableFuture.supplyAsync(
                () -> engine.scheduleInTransaction(second, request, When.after(Duration.ofMinutes(5))));
        quietPeriod(Duration.ofMillis(300));
        assertThat(waiting).as("waits on the unique index for the first transaction").isNotDone();

        first.commit();
        InsertResult answer = waiting.get();
        assertThat(answer).isInstanceOf(InsertResult.Duplicate.class);
        assertThat(answer.job().id()).isEqualTo(created.job().id());
        second.commit();
        assertThat(count(schema + ".jobs")).isEqualTo(1);
    }

    @Test
    void theStoreAnnouncesOnlyCommittedJobsAndOnlyToItsOwnSchema() throws Exception {
        PostgresJobStore elsewhere = openStore(TestDatabase.newSchemaName());
        List<Instant> heard = new CopyOnWriteArrayList<>();
        List<Instant> heardElsewhere = new CopyOnWriteArrayList<>();
        toClose.add(store.onNewJobs(heard::add));
        toClose.add(elsewhere.onNewJobs(heardElsewhere::add));
        Instant due = TestJobs.T0.plusSeconds(3);

        Connection rolledBack = callerTx();
        store.insertIn(rolledBack, List.of(TestJobs.job().dueAt(due.minusSeconds(1)).build()));
        rolledBack.rollback();
        Connection committed = callerTx();
        store.insertIn(committed, List.of(TestJobs.job().dueAt(due.plusSeconds(1)).build(),
                TestJobs.job().dueAt(due).build()));
        committed.commit();

        await().atMost(Duration.ofSeconds(5)).until(() -> !heard.isEmpty());
        quietPeriod(Duration.ofMillis(300));
        assertThat(heard).as("one announcement per committed batch, its earliest due time").containsExactly(due);
        assertThat(heardElsewhere).as("another schema's store hears nothing").isEmpty();
    }

    @Test
    void aJobOwnedByANodeIsRefused() throws Exception {
        Connection tx = callerTx();
        assertThatThrownBy(() -> store.insertIn(tx, List.of(TestJobs.job().owner("node-a").build())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unowned");
    }

    @Test
    void theListenerReconnectsAfterItsConnectionIsKilled() throws Exception {
        Hourglass engine = engine(SLOW_ROUNDS);
        int pid = store.listenerBackendPid();
        assertThat(pid).isPositive();
        try (Connection admin = TestDatabase.raw(null);
                PreparedStatement kill = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
            kill.setInt(1, pid);
            kill.execute();
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> store.listenerBackendPid() > 0 && store.listenerBackendPid() != pid);

        Connection tx = callerTx();
        JobId id = engine.scheduleInTransaction(tx, work("after the reconnect"), When.after(Duration.ZERO)).job().id();
        tx.commit();
        await().atMost(Duration.ofSeconds(2)).until(() -> runsOf(id) == 1);
    }

    @Test
    void theLastSubscriptionToEndClosesTheListenConnection() {
        JobStore.Subscription a = store.onNewJobs(dueAt -> {});
        JobStore.Subscription b = store.onNewJobs(dueAt -> {});
        int pid = store.listenerBackendPid();
        assertThat(pid).isPositive();
        a.close();
        assertThat(store.listenerBackendPid()).isEqualTo(pid);
        b.close();
        b.close(); // idempotent
        assertThat(store.listenerBackendPid()).isEqualTo(-1);
    }
}
