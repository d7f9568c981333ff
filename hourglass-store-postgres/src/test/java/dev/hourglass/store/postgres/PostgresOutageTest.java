package dev.hourglass.store.postgres;

import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.store.jdbc.SqlWork;
import dev.hourglass.store.postgres.TcpProxy.Fault;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The store when the network to PostgreSQL fails, through a {@link TcpProxy} (the real server is never touched):
 * every call fails within its timeout with a {@link StoreUnavailableException} instead of hanging, a commit whose
 * answer is lost says its outcome is unknown, and the store works again once the network does, without a restart.
 */
class PostgresOutageTest {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(1);
    /** The longest a failing call may take: a pool wait (connect timeout) or a statement's (socket timeout), and slack. */
    private static final Duration BOUND = Duration.ofMillis(3_500);

    private final String schema = TestDatabase.newSchemaName();
    private TcpProxy proxy;
    private PostgresJobStore store;

    @BeforeEach
    void open() {
        proxy = TcpProxy.forJdbcUrl(TestDatabase.URL);
        store = PostgresJobStore.open(new PostgresOptions(proxy.jdbcUrl(TestDatabase.URL), TestDatabase.USER,
                TestDatabase.PASSWORD, TestDatabase.POOL_SIZE, CONNECT_TIMEOUT, SOCKET_TIMEOUT, schema, true));
    }

    @AfterEach
    void close() {
        proxy.restore();
        if (store != null) {
            store.close();
        }
        proxy.close();
        TestDatabase.dropSchema(schema);
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void callsFailWithinTheirTimeoutsAndTheStoreRecoversByItself(Fault fault) {
        NewJob before = job().build();
        insert(before);

        proxy.cut(fault);
        long started = System.nanoTime();
        assertThatThrownBy(() -> insert(job().build())).isInstanceOf(StoreUnavailableException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(TestDatabase.elapsedSince(started)).as("a failed write").isLessThan(BOUND);
        started = System.nanoTime();
        assertThatThrownBy(() -> store.find(before.id())).isInstanceOf(StoreUnavailableException.class);
        assertThat(TestDatabase.elapsedSince(started)).as("a failed read").isLessThan(BOUND);

        proxy.restore();
        NewJob after = job().build();
        // The pool evicts the broken connections and opens new ones: no restart, at most a failed call or two.
        await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(StoreUnavailableException.class)
                .until(() -> insert(after) instanceof InsertResult.Created);
        assertThat(store.find(before.id())).isPresent();
        assertThat(store.find(after.id())).isPresent();
    }

    @Test
    void aCommitWhoseAnswerIsLostHasAnUnknownOutcomeAndMayHaveBeenApplied() {
        NewJob lost = job().build();
        long started = System.nanoTime();
        assertThatThrownBy(() -> store.write(Durability.FSYNC, tx -> {
            List<InsertResult> result = tx.insert(List.of(lost));
            proxy.cut(Fault.BLACKHOLE); // the COMMIT goes out into a network that swallows it
            return result;
        })).isInstanceOfSatisfying(StoreUnavailableException.class,
                e -> assertThat(e.outcomeUnknown()).as("outcome unknown: " + e.getMessage()).isTrue());
        assertThat(TestDatabase.elapsedSince(started)).isLessThan(BOUND);

        // The network heals and delivers the COMMIT late, as TCP would: the "failed" write was applied.
        proxy.restore();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(StoreUnavailableException.class)
                .until(() -> store.find(lost.id()).isPresent());
    }

    @Test
    void aFailureBeforeTheCommitIsNotOutcomeUnknownAndNothingIsKept() {
        NewJob never = job().build();
        assertThatThrownBy(() -> store.write(Durability.FSYNC, tx -> {
            proxy.cut(Fault.REFUSE);
            return tx.insert(List.of(never));
        })).isInstanceOfSatisfying(StoreUnavailableException.class,
                e -> assertThat(e.outcomeUnknown()).isFalse());

        proxy.restore();
        Optional<Job> found = await().atMost(Duration.ofSeconds(10))
                .ignoreExceptionsInstanceOf(StoreUnavailableException.class)
                .until(() -> store.find(never.id()), f -> true);
        assertThat(found).isEmpty();
    }

    @Test
    void theServerAbortsATransactionOfOursLeftIdleSoALateCommitCannotLandLongAfterItsClientGaveUp() {
        assertThat(store.sessionSetting("idle_in_transaction_session_timeout"))
                .isEqualTo(PostgresJobStore.IDLE_IN_TRANSACTION_TIMEOUT.toSeconds() + "s");
    }

    @Test
    void theTimeoutsHaveDefaultsAndInvalidOnesAreRefused() {
        PostgresOptions defaults = PostgresOptions.of(TestDatabase.URL, null, null);
        assertThat(defaults.socketTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThatThrownBy(() -> defaults.withSocketTimeout(Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("socketTimeout");
        assertThat(defaults.toString()).contains("socketTimeout=PT10S");
    }

    @Test
    void sqlCallsOfOtherModulesFailAsUnavailableWithinTheirTimeoutsAndRecoverLikeJobCalls() {
        // What the server's tenancy administration uses: its tables live in the store's schema (SqlDatabase).
        store.writeSql("create probe", connection -> connection.createStatement()
                .executeUpdate("CREATE TABLE probe (k text PRIMARY KEY)"));
        SqlWork<Integer> insertK2 = connection -> connection.createStatement()
                .executeUpdate("INSERT INTO probe VALUES ('k2')");

        proxy.cut(Fault.REFUSE);
        long started = System.nanoTime();
        assertThatThrownBy(() -> store.readSql("count probes", connection -> connection.createStatement()
                .executeQuery("SELECT count(*) FROM probe").next())).isInstanceOf(StoreUnavailableException.class);
        assertThatThrownBy(() -> store.writeSql("add probe k2", insertK2))
                .isInstanceOf(StoreUnavailableException.class)
                .satisfies(e -> assertThat(e.getMessage()).contains("add probe k2").doesNotContain("\n"));
        assertThat(TestDatabase.elapsedSince(started)).as("two failed calls").isLessThan(BOUND.multipliedBy(2));

        proxy.restore();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(StoreUnavailableException.class)
                .until(() -> store.writeSql("add probe k2", insertK2) == 1);
        String stored = store.readSql("read probes", connection -> {
            try (ResultSet rs = connection.createStatement().executeQuery("SELECT k FROM probe")) {
                rs.next();
                return rs.getString(1);
            }
        });
        assertThat(stored).isEqualTo("k2");
    }

    private InsertResult insert(NewJob job) {
        return store.write(Durability.FSYNC, tx -> tx.insert(List.of(job))).getFirst();
    }
}
