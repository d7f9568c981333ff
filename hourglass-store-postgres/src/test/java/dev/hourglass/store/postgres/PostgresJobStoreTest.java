package dev.hourglass.store.postgres;

import static dev.hourglass.store.testkit.TestJobs.at;
import static dev.hourglass.store.testkit.TestJobs.hash;
import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.ClaimDueParams;
import dev.hourglass.core.store.ClaimShare;
import dev.hourglass.core.store.ClaimShareParams;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.NodePresence;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.RescueParams;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.YieldParams;
import dev.hourglass.store.jdbc.PendingCountQuery;
import dev.hourglass.store.jdbc.SqlDialect;
import dev.hourglass.store.testkit.JobStoreContract;
import dev.hourglass.store.testkit.TestJobs;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The store conformance suite on a real PostgreSQL server, plus what only the PostgreSQL store promises. Each test
 * gets a fresh schema of its own (see {@link TestDatabase}), dropped afterwards.
 */
class PostgresJobStoreTest extends JobStoreContract {

    /** The schemas this test created (the contract's store's first), dropped after it. */
    private final List<String> schemas = new ArrayList<>();
    /** Extra stores a test opened, closed after it. */
    private final List<JobStore> others = new CopyOnWriteArrayList<>();

    @Override
    protected JobStore openStore() {
        String schema = TestDatabase.newSchemaName();
        schemas.add(schema);
        return PostgresJobStore.open(TestDatabase.options(schema));
    }

    /** Runs before the contract's own close (JUnit runs a subclass's @AfterEach first): close is idempotent. */
    @AfterEach
    void closeEverythingAndDropTheSchemas() {
        others.forEach(JobStore::close);
        if (store != null) {
            store.close();
        }
        schemas.forEach(TestDatabase::dropSchema);
    }

    private PostgresJobStore postgres() {
        return (PostgresJobStore) store;
    }

    private String schema() {
        return postgres().options().schema();
    }

    /** Another store (another pool, as another node would have) on the schema of this test's store. */
    private PostgresJobStore anotherNode() {
        PostgresJobStore other = PostgresJobStore.open(postgres().options());
        others.add(other);
        return other;
    }

    private Connection raw() throws SQLException {
        return TestDatabase.raw(schema());
    }

    @Override
    protected void setLastDelivery(JobId id, String outcome, String target) {
        try (Connection connection = raw(); PreparedStatement update = connection.prepareStatement(
                "UPDATE jobs SET last_outcome = ?, last_target = ? WHERE id = ?")) {
            update.setString(1, outcome);
            update.setString(2, target);
            update.setObject(3, JobRows.uuid(id));
            assertThat(update.executeUpdate()).isEqualTo(1);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    protected Retried retried(JobId id) {
        try (Connection connection = raw(); PreparedStatement select = connection.prepareStatement(
                "SELECT retried_at, retried_by FROM jobs WHERE id = ?")) {
            select.setObject(1, JobRows.uuid(id));
            try (ResultSet rs = select.executeQuery()) {
                assertThat(rs.next()).isTrue();
                long at = rs.getLong(1);
                return new Retried(rs.wasNull() ? null : Instant.ofEpochMilli(at), rs.getString(2));
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    /** A transaction kept open by {@link #heldOpen} until {@code letGo} counts down, and what its work returned. */
    private record Held<R>(Future<R> result, CountDownLatch letGo) {}

    /**
     * Runs {@code work} on {@code on} in a transaction that stays open after it (as one whose COMMIT the network
     * held up), on {@code thread}; returns once the work is done, with the transaction still open.
     */
    private <R> Held<R> heldOpen(ExecutorService thread, PostgresJobStore on,
            java.util.function.Function<StoreTx, R> work) throws InterruptedException {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        Future<R> result = thread.submit(() -> on.write(Durability.LAZY, tx -> {
            R value = work.apply(tx);
            inside.countDown();
            try {
                assertThat(letGo.await(30, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return value;
        }));
        assertThat(inside.await(10, TimeUnit.SECONDS)).as("the held transaction's work ran").isTrue();
        return new Held<>(result, letGo);
    }

    @Nested
    class RefusedByTheServer {

        /** What only the server refuses (SQLState class 22) is the operation's input, never an outage. */
        @Test
        void aDataExceptionIsInvalidDataNotAnOutage() {
            assertThatThrownBy(() -> postgres().writeSql("select", connection -> {
                try (var select = connection.prepareStatement("SELECT ?::text, 1 / ?")) {
                    select.setString(1, "ok");
                    select.setInt(2, 0);
                    return select.execute();
                }
            })).isInstanceOfSatisfying(InvalidDataException.class, e -> {
                assertThat(e.element()).isEqualTo(-1);
                assertThat(e.field()).isNull();
                assertThat(e.getMessage()).isEqualTo("the store refused a value (SQLState 22012)")
                        .doesNotContain(schema());
                assertThat(e.getCause().getMessage()).contains("division by zero");
            });
            assertThatThrownBy(() -> postgres().writeSql("select", connection -> {
                try (var select = connection.prepareStatement("SELECT convert_from(?, 'UTF8')")) {
                    select.setBytes(1, new byte[] {'a', 0, 'b'});
                    return select.execute();
                }
            })).isInstanceOf(InvalidDataException.class).hasMessageContaining("SQLState 22021");

            assertThat(insertOne(job().build())).isNotNull();
        }
    }

    @Nested
    class SharedUse {

        @Test
        void isNotExclusive() {
            assertThat(store.exclusive()).isFalse();
        }

        @Test
        void twoStoresOnOneSchemaSeeEachOthersCommits() {
            PostgresJobStore other = anotherNode();
            NewJob newJob = job().idempotency("k", hash("a")).build();
            insertOne(newJob);

            assertThat(other.find(newJob.id())).isPresent();
            List<InsertResult> again = other.write(Durability.FSYNC,
                    tx -> tx.insert(List.of(job().idempotency("k", hash("a")).build())));
            assertThat(again).singleElement().isInstanceOf(InsertResult.Duplicate.class);
        }

        @Test
        void twoStoresClaimingFromEightThreadsNeverClaimTheSameJobTwice() throws Exception {
            int jobs = 2_000;
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                batch.add(job().dueAt(TestJobs.T0.plusMillis(i % 97)).build());
            }
            fsync(tx -> tx.insert(batch));
            PostgresJobStore other = anotherNode();
            List<PostgresJobStore> stores = List.of(postgres(), other);
            Map<JobId, String> claimedBy = new ConcurrentHashMap<>();
            AtomicInteger claims = new AtomicInteger();
            AtomicInteger doubleClaims = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService threads = Executors.newFixedThreadPool(8)) {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    String node = "node-" + t;
                    PostgresJobStore on = stores.get(t % 2); // 4 threads on each pool
                    futures.add(threads.submit(() -> {
                        go.await();
                        while (true) {
                            List<Job> claimed = on.write(Durability.LAZY,
                                    tx -> tx.claimDue(new ClaimDueParams(node, at(1), 25, at(0))));
                            if (claimed.isEmpty()) {
                                return null;
                            }
                            for (Job job : claimed) {
                                claims.incrementAndGet();
                                assertThat(job.owner()).isEqualTo(node);
                                assertThat(job.fencingToken()).isEqualTo(1);
                                if (claimedBy.putIfAbsent(job.id(), node) != null) {
                                    doubleClaims.incrementAndGet();
                                }
                            }
                        }
                    }));
                }
                go.countDown();
                for (Future<?> future : futures) {
                    future.get(30, TimeUnit.SECONDS);
                }
            }

            assertThat(doubleClaims.get()).isZero();
            assertThat(claims.get()).isEqualTo(jobs);
            assertThat(claimedBy).hasSize(jobs);
            assertThat(new HashSet<>(claimedBy.values())).as("the work was spread").hasSizeGreaterThan(1);
            for (Job job : listAll(null, null, JobQuery.MAX_LIMIT)) {
                assertThat(job.owner()).isEqualTo(claimedBy.get(job.id()));
                assertThat(job.fencingToken()).isEqualTo(1);
            }
        }

        @Test
        void cancelRacingWithStartOnTwoNodesHasExactlyOneWinnerPerJob() throws Exception {
            int jobs = 300;
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                batch.add(job().owner("node-a").build());
            }
            fsync(tx -> tx.insert(batch));
            PostgresJobStore other = anotherNode();
            CountDownLatch go = new CountDownLatch(1);
            List<Optional<Job>> starts = new ArrayList<>();
            List<ChangeResult> cancels = new ArrayList<>();
            try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
                Future<?> starter = threads.submit(() -> {
                    go.await();
                    for (int from = 0; from < jobs; from += 10) {
                        List<StartRun> runs = batch.subList(from, from + 10).stream()
                                .map(j -> new StartRun(j.id(), "node-a", 0, at(1))).toList();
                        starts.addAll(store.write(Durability.LAZY, tx -> tx.start(runs)));
                    }
                    return null;
                });
                Future<?> canceller = threads.submit(() -> {
                    go.await();
                    for (int from = jobs - 10; from >= 0; from -= 10) { // from the other end, so they meet
                        List<CancelRequest> requests = batch.subList(from, from + 10).stream()
                                .map(j -> new CancelRequest(j.id(), null, at(1))).toList();
                        List<ChangeResult> results = other.write(Durability.FSYNC, tx -> tx.cancel(requests));
                        cancels.addAll(0, results);
                    }
                    return null;
                });
                go.countDown();
                starter.get(30, TimeUnit.SECONDS);
                canceller.get(30, TimeUnit.SECONDS);
            }

            int started = 0;
            int cancelled = 0;
            for (int i = 0; i < jobs; i++) {
                boolean startWon = starts.get(i).isPresent();
                boolean cancelWon = cancels.get(i) instanceof ChangeResult.Changed;
                assertThat(startWon ^ cancelWon).as("exactly one winner for job " + i).isTrue();
                JobState state = get(batch.get(i).id()).state();
                assertThat(state).isEqualTo(startWon ? JobState.RUNNING : JobState.CANCELLED);
                if (startWon) {
                    assertThat(cancels.get(i)).isInstanceOf(ChangeResult.WrongState.class);
                    started++;
                } else {
                    cancelled++;
                }
            }
            assertThat(started + cancelled).isEqualTo(jobs);
        }

        @Test
        void twoNodesOpeningAFreshSchemaAtOnceMigrateItOnce() throws Exception {
            String schema = TestDatabase.newSchemaName();
            schemas.add(schema);
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
                List<Future<PostgresJobStore>> opened = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    opened.add(threads.submit(() -> {
                        go.await();
                        PostgresJobStore node = PostgresJobStore.open(TestDatabase.options(schema));
                        others.add(node);
                        return node;
                    }));
                }
                go.countDown();
                for (Future<PostgresJobStore> node : opened) {
                    assertThat(node.get(30, TimeUnit.SECONDS).schemaVersion()).isEqualTo("10");
                }
            }
            try (Connection connection = TestDatabase.raw(schema); Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT version, count(*) FROM flyway_schema_history "
                            + "WHERE version IS NOT NULL AND success GROUP BY version ORDER BY version::int")) {
                for (String version : List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo(version);
                    assertThat(rs.getInt(2)).as("version " + version + " applied once").isEqualTo(1);
                }
                assertThat(rs.next()).isFalse();
            }
        }
    }

    /**
     * A renewal and a rescue of the same node on two nodes at once, each transaction held open at the critical
     * point. Neither ever waits for the other (a wait would stall that node's only writer); the rescue never takes
     * the claims of a node whose renewal is in flight, and a renewal never commits while a rescue of its node is.
     */
    @Nested
    class RescueRaces {
        /** Bounds a write that must not wait for the other transaction (it would wait until the test lets go). */
        private static final long NO_WAIT_SECONDS = 5;

        private void leaseOfNodeAUntil(int second) {
            lazy(tx -> tx.heartbeat(new HeartbeatParams("node-a", at(second), at(0))));
        }

        /** node-a's lease, stored until second 10, and one job of node-a's; returns the job. */
        private NewJob aJobOfNodeAWhoseLeaseEndsAt10() {
            leaseOfNodeAUntil(10);
            NewJob ofA = job().owner("node-a").build();
            insertOne(ofA);
            return ofA;
        }

        @Test
        void aRescueLeavesOutANodeWhoseRenewalIsInFlight() throws Exception {
            NewJob ofA = aJobOfNodeAWhoseLeaseEndsAt10();
            PostgresJobStore nodeA = anotherNode();
            try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
                Held<Boolean> renewal = heldOpen(threads, nodeA,
                        tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(9))));

                // node-a's stored lease (10) has run out at 11, but its renewal to 100 is about to commit.
                Future<Integer> rescue = threads.submit(() -> rescue(at(11), "node-b", false));
                assertThat(rescue.get(NO_WAIT_SECONDS, TimeUnit.SECONDS)).as("node-a is renewing: left out")
                        .isZero();
                renewal.letGo().countDown();
                assertThat(renewal.result().get(10, TimeUnit.SECONDS)).isTrue();
            }

            assertThat(get(ofA.id()).owner()).isEqualTo("node-a");
            assertThat(rescue(at(50), "node-b", false)).as("the renewed lease holds").isZero();
            assertThat(rescue(at(101), "node-b", false)).as("and runs out in its time").isEqualTo(1);
        }

        @Test
        void aRenewalThatCommitsAfterTheRescueListedItsNodeKeepsTheNodesClaims() throws Exception {
            NewJob ofA = aJobOfNodeAWhoseLeaseEndsAt10();
            PostgresJobStore nodeA = anotherNode();
            AtomicBoolean renewed = new AtomicBoolean();
            try (Connection rescuer = raw()) {
                rescuer.setAutoCommit(false);
                // The rescue's first statement finds node-a's lease (10) run out at 11; node-a's renewal to 100
                // commits just after it, before the rescue tries node-a's lock, which is free again by then: only
                // the lease read again after the lock can tell.
                Connection renewalBeforeTheLock = before(rescuer, PostgresTx.TRY_LOCK_NODES, () -> renewed.set(
                        nodeA.write(Durability.LAZY,
                                tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(9))))));
                int rescued = new PostgresTx(renewalBeforeTheLock, "rescuer", (NewJobChannel) null, node -> null)
                        .rescueExpired(RescueParams.expiredLeases("node-b", at(11)));
                rescuer.commit();

                assertThat(renewed).as("the renewal went through").isTrue();
                assertThat(rescued).as("node-a renewed before its lock was taken: left alone").isZero();
            }
            assertThat(get(ofA.id()).owner()).isEqualTo("node-a");
            assertThat(rescue(at(101), "node-b", false)).as("until the renewed lease runs out").isEqualTo(1);
        }

        /** {@code connection}, running {@code interlude} once, just before it prepares {@code sql}. */
        private Connection before(Connection connection, String sql, Runnable interlude) {
            AtomicBoolean done = new AtomicBoolean();
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                    new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                        if (method.getName().equals("prepareStatement") && sql.equals(args[0])
                                && done.compareAndSet(false, true)) {
                            interlude.run();
                        }
                        try {
                            return method.invoke(connection, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        @Test
        void aRenewalIsRefusedWhileARescueOfItsNodeIsInFlightAndWorksAfterIt() throws Exception {
            NewJob ofA = aJobOfNodeAWhoseLeaseEndsAt10();
            PostgresJobStore nodeA = anotherNode();
            try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
                Held<Integer> rescue = heldOpen(threads, postgres(),
                        tx -> tx.rescueExpired(RescueParams.expiredLeases("node-b", at(11))));

                Future<Boolean> renewal = threads.submit(() -> nodeA.write(Durability.LAZY,
                        tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(11)))));
                assertThat(renewal.get(NO_WAIT_SECONDS, TimeUnit.SECONDS)).as("refused, without waiting").isFalse();
                rescue.letGo().countDown();
                assertThat(rescue.result().get(10, TimeUnit.SECONDS)).isEqualTo(1);
            }

            assertThat(get(ofA.id()).owner()).as("handed back").isNull();
            boolean renewedAfter = nodeA.write(Durability.LAZY,
                    tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(12))));
            assertThat(renewedAfter).as("renews once the rescue is over").isTrue();
            assertThat(rescue(at(50), "node-b", false)).isZero();
        }

        @Test
        void aRescueSkipsTheRowsAnotherTransactionHoldsAndALaterRescueTakesThem() throws Exception {
            leaseOfNodeAUntil(10);
            NewJob first = job().build();
            NewJob second = job().build();
            insert(first, second);
            List<Job> claimed = claim("node-a", at(0), 10, at(0));
            Job held = claimed.stream().filter(j -> j.id().equals(first.id())).findFirst().orElseThrow();
            PostgresJobStore nodeA = anotherNode();
            try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
                // node-a's start, cut off before its COMMIT (as by a network that drops packets): the row stays
                // locked until the transaction ends.
                Held<List<Optional<Job>>> start = heldOpen(threads, nodeA,
                        tx -> tx.start(List.of(new StartRun(held.id(), "node-a", held.fencingToken(), at(1)))));

                Future<Integer> rescue = threads.submit(() -> rescue(at(11), "node-b", false));
                assertThat(rescue.get(NO_WAIT_SECONDS, TimeUnit.SECONDS)).as("only the row not held").isEqualTo(1);
                assertThat(get(second.id()).owner()).isNull();
                start.letGo().countDown();
                assertThat(start.result().get(10, TimeUnit.SECONDS)).singleElement().matches(Optional::isPresent);
            }

            assertThat(get(first.id()).state()).isEqualTo(JobState.RUNNING);
            assertThat(rescue(at(12), "node-b", false)).as("the next rescue takes the rest").isEqualTo(1);
            Job rescued = get(first.id());
            assertThat(rescued.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(rescued.owner()).isNull();
            assertThat(rescued.attempts()).isEqualTo(1);
        }
    }

    /**
     * Crash detection: a node's presence mark, a session-level lock that PostgreSQL frees when the node's process
     * dies, lets a rescue take a dead node's claims at once, whatever its lease; never a live node's, and never on
     * the word of a mark taken before the server restarted.
     */
    @Nested
    class CrashDetection {
        private PostgresJobStore nodeA;
        private PresenceKeeper presenceOfA;

        /** node-a holds its presence, renews its lease until second 100 and owns one job; returns the job. */
        private NewJob aLiveNodeAWithAJob() {
            nodeA = anotherNode();
            presenceOfA = (PresenceKeeper) nodeA.holdPresence("node-a");
            await().atMost(Duration.ofSeconds(5)).until(() -> presenceOfA.epoch() != null);
            assertThat(nodeA.<Boolean>write(Durability.LAZY,
                    tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(0))))).isTrue();
            NewJob ofA = job().owner("node-a").build();
            insertOne(ofA);
            return ofA;
        }

        /**
         * Drops node-a's presence as its process's death would, and waits until PostgreSQL has ended the session
         * (the lock goes with the backend, a moment after the client closed the connection).
         */
        private void endPresenceOfA() {
            int pid = presenceOfA.backendPid();
            presenceOfA.close();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
                try (Connection connection = raw(); Statement select = connection.createStatement();
                        ResultSet rs = select.executeQuery(
                                "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
                    return rs.next() && rs.getInt(1) == 0;
                }
            });
        }

        private Long recordedEpochOfA() throws SQLException {
            try (Connection connection = raw(); Statement select = connection.createStatement();
                    ResultSet rs = select.executeQuery("SELECT presence_epoch FROM nodes WHERE node = 'node-a'")) {
                assertThat(rs.next()).as("node-a's row").isTrue();
                long epoch = rs.getLong(1);
                return rs.wasNull() ? null : epoch;
            }
        }

        private long serverEpoch() throws SQLException {
            try (Connection connection = raw(); Statement select = connection.createStatement();
                    ResultSet rs = select.executeQuery("SELECT " + PostgresTx.SERVER_EPOCH)) {
                assertThat(rs.next()).isTrue();
                return rs.getLong(1);
            }
        }

        @Test
        void aNodeWhosePresenceEndsIsRescuedAtOnceWhateverItsLease() throws SQLException {
            NewJob ofA = aLiveNodeAWithAJob();
            assertThat(recordedEpochOfA()).as("the heartbeat records the server's life").isEqualTo(serverEpoch());
            assertThat(rescue(at(11), "node-b", false)).as("alive, lease until 100: left alone").isZero();
            assertThat(get(ofA.id()).owner()).isEqualTo("node-a");

            endPresenceOfA(); // what happens when node-a's process dies: its session ends

            assertThat(rescue(at(11), "node-b", false)).as("dead: rescued at 11 though its lease runs to 100")
                    .isEqualTo(1);
            assertThat(get(ofA.id()).owner()).isNull();
            try (Connection connection = raw(); Statement select = connection.createStatement();
                    ResultSet rs = select.executeQuery("SELECT count(*) FROM nodes WHERE node = 'node-a'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("its nodes row is gone").isZero();
            }
        }

        @Test
        void aNodeWhosePresenceEndedButThatRenewedWithinTheGraceIsLeftAlone() throws SQLException {
            NewJob ofA = aLiveNodeAWithAJob(); // renewed at second 0
            endPresenceOfA(); // as when a proxy cut every connection of a node that lives

            assertThat(PostgresJobStoreTest.this.<Integer>lazy(
                    tx -> tx.rescueExpired(RescueParams.expiredLeases("node-b", at(2), Duration.ofSeconds(2)))))
                    .as("renewed 2 s ago, within the grace: may be alive and reconnecting").isZero();
            assertThat(get(ofA.id()).owner()).isEqualTo("node-a");
            assertThat(PostgresJobStoreTest.this.<Integer>lazy(
                    tx -> tx.rescueExpired(RescueParams.expiredLeases("node-b", at(3), Duration.ofSeconds(2)))))
                    .as("silent for longer than the grace: dead").isEqualTo(1);
        }

        @Test
        void aMarkTakenBeforeTheServerRestartedSaysNothingAndTheLeaseDecides() throws SQLException {
            NewJob ofA = aLiveNodeAWithAJob();
            try (Connection connection = raw(); Statement update = connection.createStatement()) {
                update.executeUpdate("UPDATE nodes SET presence_epoch = presence_epoch - 1 WHERE node = 'node-a'");
            }
            endPresenceOfA(); // every session ended with the server's earlier life

            assertThat(rescue(at(11), "node-b", false)).as("an earlier life's mark: the lease decides").isZero();
            assertThat(rescue(at(101), "node-b", false)).as("and runs out in its time").isEqualTo(1);
            assertThat(get(ofA.id()).owner()).isNull();
        }

        @Test
        void aNodeThatHoldsNoPresenceIsLeftToItsLease() throws SQLException {
            lazy(tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(0))));
            insertOne(job().owner("node-a").build());
            assertThat(recordedEpochOfA()).isNull();
            assertThat(rescue(at(11), "node-b", false)).isZero();
            assertThat(rescue(at(101), "node-b", false)).isEqualTo(1);
        }

        @Test
        void aPresenceWhoseSessionTheServerEndsLapsesUntilItIsHeldAgain() throws Exception {
            NewJob ofA = aLiveNodeAWithAJob();
            int firstPid = presenceOfA.backendPid();
            try (Connection rival = raw(); Statement statement = rival.createStatement()) {
                statement.execute("SELECT pg_terminate_backend(" + firstPid + ")");
                // The rival takes the freed lock before node-a's keeper reconnects, so the lapse lasts until it
                // lets go (as a rescue holding node-a's lock would).
                String key = "hashtextextended('hourglass presence ' || current_schema() || ' ' || 'node-a', 0)";
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
                    try (ResultSet rs = statement.executeQuery("SELECT pg_try_advisory_lock(" + key + ")")) {
                        return rs.next() && rs.getBoolean(1);
                    }
                });
                await().atMost(Duration.ofSeconds(5)).until(presenceOfA::lapsed);
                assertThat(presenceOfA.epoch()).isNull();
                assertThat(nodeA.<Boolean>write(Durability.LAZY,
                        tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(1))))).isTrue();
                assertThat(recordedEpochOfA()).as("a lapsed mark is not recorded").isNull();
                assertThat(rescue(at(11), "node-b", false)).as("no mark recorded: the lease decides").isZero();

                statement.execute("SELECT pg_advisory_unlock(" + key + ")");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> !presenceOfA.lapsed() && presenceOfA.epoch() != null);
            assertThat(presenceOfA.backendPid()).as("a new session").isNotEqualTo(firstPid).isPositive();
            assertThat(nodeA.<Boolean>write(Durability.LAZY,
                    tx -> tx.heartbeat(new HeartbeatParams("node-a", at(100), at(2))))).isTrue();
            assertThat(recordedEpochOfA()).isEqualTo(serverEpoch());
            assertThat(rescue(at(11), "node-b", false)).as("held again: alive").isZero();
            assertThat(get(ofA.id()).owner()).isEqualTo("node-a");
        }

        @Test
        void aNodeRescuedForDeadCannotTakeItsPresenceBackUntilTheRescueCommits() throws Exception {
            NewJob ofA = aLiveNodeAWithAJob();
            endPresenceOfA();
            try (ExecutorService threads = Executors.newFixedThreadPool(1)) {
                Held<Integer> rescue = heldOpen(threads, postgres(),
                        tx -> tx.rescueExpired(RescueParams.expiredLeases("node-b", at(11))));
                PresenceKeeper again = (PresenceKeeper) nodeA.holdPresence("node-a");
                assertThat(again.epoch()).as("the rescue holds node-a's lock").isNull();
                rescue.letGo().countDown();
                assertThat(rescue.result().get(10, TimeUnit.SECONDS)).isEqualTo(1);
                await().atMost(Duration.ofSeconds(10)).until(() -> again.epoch() != null);
                again.close();
            }
            assertThat(get(ofA.id()).owner()).isNull();
        }

        @Test
        void aStoreHoldsANodesPresenceOnceAndNoneWhenCrashDetectionIsOff() {
            aLiveNodeAWithAJob();
            assertThatThrownBy(() -> nodeA.holdPresence("node-a")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("node-a");
            PostgresJobStore off = PostgresJobStore.open(postgres().options().withCrashDetection(false));
            others.add(off);
            assertThat(off.holdPresence("node-c")).isSameAs(NodePresence.NONE);
        }
    }

    /** What nodes size their claims by (their fair share of the near-term jobs), and how they hand the excess back. */
    @Nested
    class ClaimSpread {
        private ClaimShare share(String node, long claims, Instant dueBefore, Instant now) {
            return lazy(tx -> tx.claimShare(new ClaimShareParams(node, claims, dueBefore, now)));
        }

        private List<JobId> yieldOf(String node, Instant keepThrough, int count, Instant now) {
            return lazy(tx -> tx.yieldClaims(new YieldParams(node, keepThrough, count, now)));
        }

        private void heartbeat(String node, Instant leaseUntil) {
            assertThat(store.<Boolean>write(Durability.LAZY,
                    tx -> tx.heartbeat(new HeartbeatParams(node, leaseUntil, at(0))))).isTrue();
        }

        @Test
        void theShareCountsLiveNodesTheirRecordedClaimsAndUnownedJobsDueByTheHorizon() {
            heartbeat("node-a", at(100));
            heartbeat("node-b", at(100));
            heartbeat("node-dead", at(5)); // its lease runs out at 5
            insert(job().dueIn(10).build(), job().dueIn(20).build(), job().dueIn(31).build(),
                    job().owner("node-a").dueIn(10).build());

            assertThat(share("node-b", 7, at(30), at(1))).as("at 1: three live nodes, none recorded claims but b")
                    .isEqualTo(new ClaimShare(3, 7, 2));
            assertThat(share("node-dead", 50, at(30), at(6)).liveNodes()).isEqualTo(2);
            assertThat(share("node-a", 3, at(30), at(6))).as("the dead node's claims no longer count")
                    .isEqualTo(new ClaimShare(2, 10, 2));
            assertThat(new ClaimShare(2, 10, 2).fairShare()).isEqualTo(6);
            assertThat(new ClaimShare(3, 10, 0).fairShare()).as("rounded up").isEqualTo(4);
            assertThat(new ClaimShare(1, 10, 5).fairShare()).as("alone: everything").isEqualTo(15);
        }

        @Test
        void aYieldHandsBackTheLatestDueClaimsAfterTheKeptWindow() {
            List<Job> claims = new ArrayList<>();
            for (int i = 1; i <= 12; i++) {
                claims.add(insertOne(job().owner("node-a").dueIn(i).build()));
            }
            Job ofB = insertOne(job().owner("node-b").dueIn(30).build());
            heartbeat("node-a", at(100));
            assertThat(share("node-a", 12, at(30), at(1)).claimed()).isEqualTo(12);

            List<JobId> yielded = yieldOf("node-a", at(2), 5, at(1));

            assertThat(share("node-b", 0, at(30), at(1))).as("a's recorded claims less its yield; 5 unowned")
                    .isEqualTo(new ClaimShare(1, 7, 5));
            assertThat(yielded).as("the latest due: 8 to 12").containsExactlyInAnyOrderElementsOf(
                    List.of(8, 9, 10, 11, 12).stream().map(i -> claims.get(i - 1).id()).toList());
            for (Job claim : claims) {
                Job now = get(claim.id());
                if (yielded.contains(claim.id())) {
                    assertThat(now.owner()).as("yielded: unowned").isNull();
                    assertThat(now.fencingToken()).as("a new token").isGreaterThan(claim.fencingToken());
                    assertThat(start(claim, at(1))).as("the old owner's start is refused").isEmpty();
                } else {
                    assertThat(now.owner()).isEqualTo("node-a");
                    assertThat(now.fencingToken()).isEqualTo(claim.fencingToken());
                }
            }
            assertThat(get(ofB.id()).owner()).as("another node's claims stay").isEqualTo("node-b");
            assertThat(claim("node-b", at(30), 100, at(1))).as("yielded jobs are claimable")
                    .extracting(Job::id).containsExactlyInAnyOrderElementsOf(yielded);
            assertThat(yieldOf("node-a", at(6), 5, at(1))).as("due 3 to 7: none after 6 but 7")
                    .containsExactly(claims.get(6).id());
        }

        @Test
        void aYieldLeavesJobsThatAreNoLongerTheNodesScheduledClaims() {
            Job cancelled = insertOne(job().owner("node-a").dueIn(10).build());
            Job running = running("node-a", job().dueIn(11), at(1));
            Job kept = insertOne(job().owner("node-a").dueIn(12).build());
            assertThat(cancel(cancelled.id(), cancelled.tenant(), at(1))).isInstanceOf(ChangeResult.Changed.class);

            assertThat(yieldOf("node-a", at(0), 1, at(2))).containsExactly(kept.id());
            assertThat(get(cancelled.id()).state()).isEqualTo(JobState.CANCELLED);
            assertThat(get(running.id()).owner()).isEqualTo("node-a");
            assertThat(yieldOf("node-a", at(0), 5, at(2))).as("nothing left to yield").isEmpty();
        }
    }

    @Nested
    class LockWaits {

        @Test
        void aWriteThatMeetsARowHeldByAStuckTransactionGivesUpWithinTheLockTimeoutAndChangesNothing()
                throws Exception {
            NewJob held = job().owner("node-a").build();
            NewJob free = job().build();
            insert(held, free);
            PostgresJobStore nodeA = anotherNode();
            try (ExecutorService threads = Executors.newFixedThreadPool(1)) {
                // node-a's start, cut off before its COMMIT: its row lock stays until the transaction ends.
                Held<List<Optional<Job>>> stuck = heldOpen(threads, nodeA,
                        tx -> tx.start(List.of(new StartRun(held.id(), "node-a", 0, at(1)))));

                long started = System.nanoTime();
                assertThatThrownBy(() -> fsync(tx -> tx.cancel(List.of(new CancelRequest(free.id(), null, at(2)),
                        new CancelRequest(held.id(), null, at(2))))))
                        .isInstanceOf(StoreException.class).hasMessageContaining("55P03");
                Duration waited = TestDatabase.elapsedSince(started);
                assertThat(waited).as("the lock timeout, not the 5 s idle-transaction timeout")
                        .isGreaterThanOrEqualTo(PostgresJobStore.LOCK_TIMEOUT.minusMillis(100))
                        .isLessThan(PostgresJobStore.LOCK_TIMEOUT.plusSeconds(3));
                assertThat(get(free.id()).state()).as("the whole transaction rolled back")
                        .isEqualTo(JobState.SCHEDULED);
                stuck.letGo().countDown();
                stuck.result().get(10, TimeUnit.SECONDS);
            }
            assertThat(get(held.id()).state()).isEqualTo(JobState.RUNNING);
            assertThat(cancel(free.id(), null, at(3))).isInstanceOf(ChangeResult.Changed.class);
        }

        @Test
        void aStoppingNodeWaitsForARowAnotherTransactionHoldsAndHandsItBackToo() throws Exception {
            NewJob first = job().owner("node-a").build();
            NewJob second = job().owner("node-a").build();
            insert(first, second);
            try (Connection other = raw(); Statement statement = other.createStatement()) {
                other.setAutoCommit(false);
                statement.executeQuery("SELECT id FROM jobs WHERE id = '" + first.id() + "' FOR UPDATE").close();
                try (ExecutorService threads = Executors.newFixedThreadPool(1)) {
                    Future<Integer> release = threads.submit(() -> release("node-a", at(5)));
                    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1))
                            .until(() -> !release.isDone());
                    assertThat(release).as("waits for the row").isNotDone();
                    other.commit();
                    assertThat(release.get(10, TimeUnit.SECONDS)).as("both claims handed back").isEqualTo(2);
                }
            }
            assertThat(get(first.id()).owner()).isNull();
            assertThat(get(second.id()).owner()).isNull();
        }
    }

    @Nested
    class Persistence {

        @Test
        void dataAndSchemaVersionSurviveCloseAndReopen() throws SQLException {
            PostgresOptions options = postgres().options();
            NewJob full = job().tenant("acme").target("{\"url\":\"https://x.test\"}").payload(new byte[] {1, 2, 3})
                    .timeout(Duration.ofSeconds(9)).idempotency("k", hash("k")).dueIn(5).build();
            NewJob lazyOne = job().dueIn(1).build();
            insertOne(full);
            lazy(tx -> tx.insert(List.of(lazyOne)));
            Job claimed = claim("node-a", at(1), 10, at(0)).getFirst();
            Job run = start(claimed, at(1)).orElseThrow();
            assertThat(postgres().schemaVersion()).isEqualTo("10");
            store.close();

            store = PostgresJobStore.open(options);

            assertThat(postgres().schemaVersion()).isEqualTo("10");
            assertSameJob(get(full.id()), full.toJob());
            assertSameJob(get(lazyOne.id()), run);
            assertThat(store.lastJobId()).contains(lazyOne.id());
            assertThat(finish(run, JobState.SUCCEEDED, null, null, null, at(2))).as("the claim survives").isTrue();
            try (Connection connection = raw(); Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT version, success FROM flyway_schema_history "
                            + "WHERE version IS NOT NULL ORDER BY installed_rank")) {
                for (String version : List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo(version);
                    assertThat(rs.getBoolean(2)).isTrue();
                }
                assertThat(rs.next()).as("each migration ran once, not at every open").isFalse();
            }
        }

        @Test
        void aSchemaNewerThanThisBuildIsRefused() throws SQLException {
            PostgresOptions options = postgres().options();
            store.close();
            try (Connection connection = raw(); Statement statement = connection.createStatement()) {
                statement.executeUpdate("INSERT INTO flyway_schema_history (installed_rank, version, description, "
                        + "type, script, checksum, installed_by, execution_time, success) "
                        + "VALUES (99, '99', 'from the future', 'SQL', 'V99__from_the_future.sql', 0, 'test', 1, true)");
            }

            assertThatThrownBy(() -> PostgresJobStore.open(options))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("schema version 99")
                    .hasMessageContaining("newer");

            try (Connection connection = raw(); Statement statement = connection.createStatement()) {
                statement.executeUpdate("DELETE FROM flyway_schema_history WHERE version = '99'");
            }
            store = PostgresJobStore.open(options);
            assertThat(postgres().schemaVersion()).isEqualTo("10");
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

            // A later prune of an older id does not lower the high-water mark.
            Job olderRun = start(claim("node-a", at(0), 1, at(3)).getFirst(), at(3)).orElseThrow();
            assertThat(succeed(olderRun, at(4))).isTrue();
            assertThat(prune(at(5), 10)).isEqualTo(1);
            assertThat(store.lastJobId()).contains(newest.id());
        }

        @Test
        void theDurabilitiesMapToSynchronousCommit() {
            assertThat(postgres().synchronousCommitInside(Durability.LAZY)).isEqualTo("off");
            assertThat(postgres().synchronousCommitInside(Durability.FSYNC)).as("the server's default")
                    .isNotEqualTo("off");
        }
    }

    @Nested
    class Schema {

        /** Inserts a row in {@code state} behind the store's back and tries to move it to {@code next}. */
        private void assertTransition(Connection connection, JobState state, JobState next) throws SQLException {
            NewJob newJob = job().build();
            // A RUNNING job has an owner and a terminal one none (two CHECK constraints): keep them satisfied, so
            // that only the trigger can refuse the move.
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO jobs (id, tenant, handler, "
                    + "state, due_at, created_at, updated_at, attempts, max_attempts, backoff_initial_ms, "
                    + "backoff_max_ms, payload, owner) VALUES (?, 't1', 'webhook', ?, 0, 0, 0, 0, 1, 1000, 1000, "
                    + "'', ?)")) {
                insert.setObject(1, JobRows.uuid(newJob.id()));
                insert.setString(2, state.name());
                insert.setString(3, state == JobState.RUNNING ? "node-x" : null);
                insert.executeUpdate();
            }
            Savepoint before = connection.setSavepoint();
            try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE jobs SET state = ?, owner = ? WHERE id = ?")) {
                update.setString(1, next.name());
                update.setString(2, next == JobState.RUNNING ? "node-x" : null);
                update.setObject(3, JobRows.uuid(newJob.id()));
                boolean allowed = state == next || state.canMoveTo(next);
                if (allowed) {
                    assertThat(update.executeUpdate()).as(state + " -> " + next).isEqualTo(1);
                } else {
                    assertThatThrownBy(update::executeUpdate)
                            .as(state + " -> " + next)
                            .isInstanceOf(SQLException.class)
                            .hasMessageContaining("illegal state transition " + state + " -> " + next)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23514"));
                    connection.rollback(before); // an error aborts the transaction up to the savepoint
                }
            }
        }

        @Test
        void theTriggerRepeatsTheStateMachineOfJobState() throws SQLException {
            try (Connection connection = raw()) {
                connection.setAutoCommit(false); // one transaction, rolled back
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

            try (Connection connection = raw();
                    PreparedStatement update = connection.prepareStatement(
                            "UPDATE jobs SET state = 'RUNNING', owner = 'node-a' WHERE id = ?")) {
                update.setObject(1, JobRows.uuid(run.id()));
                assertThatThrownBy(update::executeUpdate).hasMessageContaining("illegal state transition");
            }
            assertThat(get(run.id()).state()).isEqualTo(JobState.SUCCEEDED);
        }

        @Test
        void unknownStatesNegativeAttemptsAndInconsistentClaimsAreRefused() throws SQLException {
            insertOne(job().build());
            Job run = running("node-a", job(), at(0));

            try (Connection connection = raw(); Statement statement = connection.createStatement()) {
                assertThatThrownBy(() -> statement.executeUpdate("INSERT INTO jobs (id, tenant, handler, state, "
                        + "due_at, created_at, updated_at, attempts, max_attempts, backoff_initial_ms, backoff_max_ms, "
                        + "payload) VALUES (gen_random_uuid(), 't1', 'webhook', 'PAUSED', 0, 0, 0, 0, 1, 1000, 1000, "
                        + "'')")).hasMessageContaining("jobs_state_known");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET state = 'PAUSED'"))
                        .as("the trigger fires first").hasMessageContaining("illegal state transition");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET attempts = -1"))
                        .hasMessageContaining("jobs_attempts_non_negative");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET owner = NULL WHERE id = '"
                        + run.id() + "'")).hasMessageContaining("jobs_running_has_owner");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET state = 'SUCCEEDED' WHERE id = '"
                        + run.id() + "'")).hasMessageContaining("jobs_terminal_holds_no_claim");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE jobs SET due_at = 'soon'"))
                        .isInstanceOf(SQLException.class);
            }
        }

        /** The plan of {@code sql} (its {@code ?} numbered as $1, $2...) as a generic or a custom plan. */
        private String plan(String sql, boolean generic, String types, String arguments) throws SQLException {
            StringBuilder numbered = new StringBuilder();
            int n = 0;
            for (char c : sql.toCharArray()) {
                if (c == '?') {
                    numbered.append('$').append(++n);
                } else {
                    numbered.append(c);
                }
            }
            try (Connection connection = raw(); Statement statement = connection.createStatement()) {
                statement.execute("SET plan_cache_mode = " + (generic ? "force_generic_plan" : "force_custom_plan"));
                statement.execute("PREPARE q (" + types + ") AS " + numbered);
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = statement.executeQuery("EXPLAIN EXECUTE q (" + arguments + ")")) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                return plan.toString();
            }
        }

        /**
         * 20,000 jobs shaped like a queue in use, with fresh statistics: most are SCHEDULED and due later (days
         * out), 100 are due now and free, 600 are held by the horizons of three nodes, 5,000 have finished.
         */
        private void fillAndAnalyze() throws SQLException {
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 14_300; i++) {
                batch.add(job().dueAt(TestJobs.T0.plusSeconds(3_600 + i * 60L)).build());
            }
            for (int i = 0; i < 100; i++) {
                batch.add(job().dueAt(TestJobs.T0.plusMillis(i)).build());
            }
            for (int i = 0; i < 600; i++) {
                batch.add(job().dueAt(TestJobs.T0.plusMillis(i)).owner("node-" + (i % 3)).build());
            }
            List<NewJob> done = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) {
                done.add(job().owner("node-0").build());
            }
            batch.addAll(done);
            fsync(tx -> tx.insert(batch));
            lazy(tx -> tx.start(done.stream().map(j -> new StartRun(j.id(), "node-0", 0, at(0))).toList()));
            lazy(tx -> tx.finish(done.stream().map(j -> new FinishRun(j.id(), "node-0", 0, JobState.SUCCEEDED,
                    null, null, null, at(1))).toList()));
            try (Connection connection = raw(); Statement statement = connection.createStatement()) {
                statement.execute("ANALYZE jobs");
            }
        }

        @Test
        void theClaimWalksTheClaimableIndexInGenericAndCustomPlans() throws SQLException {
            fillAndAnalyze();

            for (boolean generic : new boolean[] {true, false}) {
                String plan = plan(PostgresTx.CLAIM, generic, "text, bigint, bigint, integer",
                        "'node-a', 0, " + TestJobs.T0.plusSeconds(60).toEpochMilli() + ", 1000");
                assertThat(plan).as(plan).contains("Index Scan using jobs_claimable").contains("LockRows")
                        .contains("Index Scan using jobs_pkey").doesNotContain("Seq Scan").doesNotContain("Sort");
            }
        }

        /**
         * The pending-jobs gauges' count of the next hour reads a range of jobs_claimable (the free jobs) and the
         * entries of jobs_owned (the held ones), never the table.
         */
        @Test
        void theBoundedPendingCountReadsTheClaimableRangeAndTheOwnedIndex() throws SQLException {
            fillAndAnalyze();
            long now = TestJobs.T0.toEpochMilli();
            String edges = now + ", " + (now + 60_000) + ", " + (now + 3_600_000) + ", " + (now + 86_400_000) + ", "
                    + (now + 3_600_000);
            String types = "bigint, bigint, bigint, bigint, bigint";

            String free = plan(PendingCountQuery.FREE_DUE_UNTIL, false, types, edges);
            String held = plan(PendingCountQuery.heldDueUntil(SqlDialect.POSTGRESQL), false, types, edges);

            assertThat(free).as(free).contains("jobs_claimable").doesNotContain("Seq Scan");
            assertThat(held).as(held).contains("jobs_owned").doesNotContain("Seq Scan");
        }

        @Test
        void theBatchUpdatesFindTheirRowsByPrimaryKey() throws SQLException {
            fillAndAnalyze();
            String ids = "ARRAY['" + TestJobs.nextId() + "', '" + TestJobs.nextId() + "']::uuid[]";

            for (boolean generic : new boolean[] {true, false}) {
                // A start names the row by id and owner: the planner may take the primary key or jobs_owned on
                // (owner, id) (schema V4); either is one index lookup per row.
                assertThat(plan(PostgresTx.START, generic, "uuid[], text[], bigint[], bigint[]",
                        ids + ", ARRAY['a', 'b'], ARRAY[1, 2]::bigint[], ARRAY[0, 0]::bigint[]"))
                        .containsPattern("Index Scan using (jobs_pkey|jobs_owned) on jobs j [^\\n]*\\n\\s+"
                                + "Index Cond: \\(.*id = r\\.id\\)")
                        .doesNotContain("Seq Scan on jobs");
                assertThat(plan(PostgresTx.CANCEL, generic, "uuid[], text[], bigint[]",
                        ids + ", ARRAY[NULL, NULL]::text[], ARRAY[0, 0]::bigint[]"))
                        .contains("jobs_pkey").doesNotContain("Seq Scan on jobs");
            }
        }

        /**
         * A page of a node's claims is one range of {@code jobs_owned} on (owner, id), read in order and cut at
         * LIMIT: no sort of all the node's claims, in generic and custom plans. (Each node holds 200 claims here,
         * so pages of 10 stand for the sweep's pages of 1,000 among a horizon's worth: when fewer rows are left
         * after the cursor than the limit, a custom plan may rightly sort those few instead.)
         */
        @Test
        void aPageOfClaimsIsOneRangeOfTheOwnedIndexInIdOrder() throws SQLException {
            fillAndAnalyze();

            for (boolean generic : new boolean[] {true, false}) {
                String first = plan(PostgresJobStore.CLAIMS_OF_FIRST, generic, "text, integer", "'node-1', 10");
                assertThat(first).as(first).contains("Index Scan using jobs_owned").doesNotContain("Sort")
                        .doesNotContain("Seq Scan on jobs");
                // The cursor of a sweep: the last id of the previous page, amid the node's claims.
                String next = plan(PostgresJobStore.CLAIMS_OF_NEXT, generic, "text, uuid, integer",
                        "'node-1', '" + aClaimOf("node-1", 50) + "', 10");
                assertThat(next).as(next).contains("Index Scan using jobs_owned").containsPattern("Index Cond: .*id >")
                        .doesNotContain("Sort").doesNotContain("Seq Scan on jobs");
            }
        }

        /** The id of {@code owner}'s claim number {@code n} (from 0) in id order. */
        private String aClaimOf(String owner, int n) throws SQLException {
            try (Connection connection = raw(); PreparedStatement select = connection.prepareStatement(
                    "SELECT id FROM jobs WHERE owner = ? ORDER BY id OFFSET ? LIMIT 1")) {
                select.setString(1, owner);
                select.setInt(2, n);
                try (ResultSet rs = select.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    return rs.getString(1);
                }
            }
        }

        @Test
        void theRescueAndPruneQueriesUseTheirPartialIndexes() throws SQLException {
            fillAndAnalyze();

            for (boolean generic : new boolean[] {true, false}) {
                assertThat(plan(PostgresTx.EXPIRED_OWNERS, generic,
                        "text, boolean, bigint, bigint, text, boolean, bigint, bigint",
                        "'node-b', false, 0, 0, 'node-b', false, 0, 0"))
                        .contains("jobs_owned").doesNotContain("Seq Scan on jobs");
                assertThat(plan(PostgresTx.HAND_BACK, generic, "boolean, bigint, text, text[], text[]",
                        "true, 0, 'x', ARRAY['node-1'], ARRAY['node-1']"))
                        .contains("jobs_owned").doesNotContain("Seq Scan on jobs");
                assertThat(plan(PostgresTx.PRUNE, generic, "bigint, integer",
                        TestJobs.T0.plusSeconds(10).toEpochMilli() + ", 100"))
                        .contains("jobs_finished").contains("jobs_pkey").doesNotContain("Seq Scan on jobs");
            }
        }
    }

    @Nested
    class Connecting {

        @Test
        void anUnreachableServerFailsOpenAtOnceWithOneClearLine() {
            PostgresOptions options = PostgresOptions.of("jdbc:postgresql://127.0.0.1:1/test", "postgres", null)
                    .withConnectTimeout(Duration.ofSeconds(2));
            long started = System.nanoTime();

            assertThatThrownBy(() -> PostgresJobStore.open(options))
                    .isInstanceOf(StoreException.class)
                    .hasMessageStartingWith("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/test")
                    .hasMessageContaining("Connection to 127.0.0.1:1 refused")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThat(TestDatabase.elapsedSince(started)).as("a refused connection does not wait")
                    .isLessThan(Duration.ofSeconds(1));
        }

        @Test
        void aServerThatNeverAnswersFailsOpenWithinTheConnectTimeout() throws Exception {
            ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            List<Socket> accepted = new CopyOnWriteArrayList<>();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // and never say a word
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            try {
                PostgresOptions options = PostgresOptions.of(
                        "jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/test", "postgres", null)
                        .withConnectTimeout(Duration.ofSeconds(1));
                long started = System.nanoTime();

                assertThatThrownBy(() -> PostgresJobStore.open(options))
                        .isInstanceOf(StoreException.class)
                        .hasMessageStartingWith("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:")
                        .hasMessageContaining("(connect timeout 1000 ms)")
                        .hasMessageContaining("timed out")
                        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
                assertThat(TestDatabase.elapsedSince(started)).isLessThan(Duration.ofMillis(2_500));
            } finally {
                silent.close();
                acceptor.join(5_000);
                for (Socket socket : accepted) {
                    socket.close();
                }
            }
        }

        @Test
        void theUrlQueryAndThePasswordNeverAppearInMessages() {
            PostgresOptions options = PostgresOptions.of("jdbc:postgresql://127.0.0.1:1/test?password=hunter2",
                    "postgres", "s3cret").withConnectTimeout(Duration.ofMillis(500));

            assertThat(options.toString()).doesNotContain("hunter2").doesNotContain("s3cret");
            assertThatThrownBy(() -> PostgresJobStore.open(options))
                    .isInstanceOf(StoreException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2").doesNotContain("s3cret"));
        }

        @Test
        void invalidOptionsAreRefusedNamingTheField() {
            PostgresOptions options = TestDatabase.options(null);
            assertThatThrownBy(() -> options.withPoolSize(2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("poolSize must be between 3");
            assertThatThrownBy(() -> options.withConnectTimeout(Duration.ofMillis(10)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("connectTimeout");
            assertThatThrownBy(() -> options.withSchema("Robert'); DROP TABLE jobs;--"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("schema");
            assertThatThrownBy(() -> PostgresOptions.of("jdbc:sqlite:/tmp/x.db", null, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jdbcUrl");
            assertThat(PostgresOptions.of(TestDatabase.URL, null, null).poolSize())
                    .isEqualTo(PostgresOptions.DEFAULT_POOL_SIZE);
            assertThat(PostgresOptions.of(TestDatabase.URL, null, null).connectTimeout())
                    .isEqualTo(Duration.ofSeconds(5));
        }

        @Test
        void theSmallestPoolOpensAStoreOnANewSchema() {
            String schema = TestDatabase.newSchemaName();
            try (PostgresJobStore small = PostgresJobStore.open(TestDatabase.options(schema)
                    .withPoolSize(PostgresOptions.MIN_POOL_SIZE))) {
                assertThat(small.schemaVersion()).isNotBlank();
            } finally {
                TestDatabase.dropSchema(schema);
            }
        }
    }

    @Nested
    class PostgresTransactions {

        @Test
        void aConstraintFailureRollsBackTheWholeBatchAndBecomesAStoreException() {
            NewJob first = job().build();
            NewJob second = job().build();
            NewJob sameIdAsSecond = job().id(second.id()).build();

            assertThatThrownBy(() -> insert(first, second, sameIdAsSecond))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining(TestDatabase.URL)
                    .hasMessageContaining("SQLState 23505")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));

            assertThat(store.find(first.id())).isEmpty();
            assertThat(store.find(second.id())).isEmpty();
            assertThat(insert(first, second)).hasSize(2);
        }

        @Test
        void inBatchDuplicatesResolveAgainstTheTableAndTheBatchAlike() {
            NewJob stored = job().idempotency("k1", hash("a")).build();
            insertOne(stored);
            NewJob sameAsStored = job().idempotency("k1", hash("a")).build();
            NewJob conflictsWithStored = job().idempotency("k1", hash("x")).build();
            NewJob fresh = job().idempotency("k2", hash("b")).build();
            NewJob sameAsFresh = job().idempotency("k2", hash("b")).build();
            NewJob conflictsWithFresh = job().idempotency("k2", hash("y")).build();

            List<InsertResult> results = insert(sameAsStored, fresh, conflictsWithStored, sameAsFresh,
                    conflictsWithFresh);

            assertThat(results.get(0)).isInstanceOf(InsertResult.Duplicate.class);
            assertThat(results.get(0).job().id()).isEqualTo(stored.id());
            assertThat(results.get(1)).isInstanceOf(InsertResult.Created.class);
            assertThat(results.get(2)).isInstanceOf(InsertResult.Conflict.class);
            assertThat(results.get(2).job().id()).isEqualTo(stored.id());
            assertThat(results.get(3)).isInstanceOf(InsertResult.Duplicate.class);
            assertThat(results.get(3).job().id()).isEqualTo(fresh.id());
            assertThat(results.get(4)).isInstanceOf(InsertResult.Conflict.class);
            assertThat(results.get(4).job().id()).isEqualTo(fresh.id());
            assertThat(ids(listAll(null, null, 100))).containsExactly(stored.id(), fresh.id());
        }

        @Test
        void aBatchNamingAJobSeveralTimesActsAsIfRunOneByOne() {
            NewJob a = job().build();
            NewJob b = job().build();
            insert(a, b);

            List<ChangeResult> results = fsync(tx -> tx.reschedule(List.of(
                    new RescheduleRequest(a.id(), null, at(5), "node-a", at(1)),
                    new RescheduleRequest(b.id(), null, at(6), null, at(1)),
                    new RescheduleRequest(a.id(), null, at(7), "node-b", at(2)))));

            assertThat(results).allMatch(r -> r instanceof ChangeResult.Changed);
            Job job = get(a.id());
            assertThat(job.dueAt()).isEqualTo(at(7));
            assertThat(job.owner()).isEqualTo("node-b");
            assertThat(job.fencingToken()).as("two reschedules").isEqualTo(2);
            assertThat(((ChangeResult.Changed) results.get(0)).job().fencingToken()).isEqualTo(1);
        }

        @Test
        void largeBatchesAreOneStatementEach() {
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) {
                batch.add(job().owner("node-a").idempotency("k" + i, hash("r" + i)).payload("p" + i).build());
            }
            List<InsertResult> inserted = fsync(tx -> tx.insert(batch));
            assertThat(inserted).allMatch(r -> r instanceof InsertResult.Created);

            List<Optional<Job>> started = lazy(tx -> tx.start(
                    batch.stream().map(j -> new StartRun(j.id(), "node-a", 0, at(1))).toList()));
            assertThat(started).allMatch(Optional::isPresent);
            List<Boolean> finished = lazy(tx -> tx.finish(batch.stream().map(j -> new FinishRun(j.id(), "node-a", 0,
                    JobState.SUCCEEDED, null, null, null, at(2))).toList()));
            assertThat(finished).allMatch(Boolean::booleanValue);
            assertThat(listAll(null, JobState.SUCCEEDED, JobQuery.MAX_LIMIT)).hasSize(5_000);
            assertThat(prune(at(3), 10_000)).isEqualTo(5_000);
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

        @Test
        void aClosedStoreRefusesReadsAndWrites() {
            store.close();

            assertThatThrownBy(() -> fsync(tx -> null)).isInstanceOf(StoreException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(() -> store.find(TestJobs.nextId())).isInstanceOf(StoreException.class)
                    .hasMessageContaining("closed");
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
            Set<JobId> listed = new HashSet<>(ids(listAll(null, null, 100)));
            assertThat(listed).containsAll(written);
        }
    }
}
