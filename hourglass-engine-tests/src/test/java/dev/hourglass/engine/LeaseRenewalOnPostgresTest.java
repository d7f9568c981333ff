package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An engine on a real PostgreSQL whose lease renewal is refused because another node is rescuing its claims (here
 * the test holds the node's lock, as a rescuer's transaction does between its check and its hand-back). The node
 * must start nothing until a renewal goes through: the rescuer may hand its jobs to another node at any moment.
 * Time is a manual clock, so the lease runs out exactly when the test says.
 */
class LeaseRenewalOnPostgresTest {
    private static final Instant T0 = Instant.parse("2026-11-27T12:00:00Z");
    private static final String NODE = "node-a";

    private final ManualClock clock = new ManualClock(T0);
    private final AtomicInteger runs = new AtomicInteger();
    private String schema;
    private PostgresJobStore store;
    private Hourglass engine;

    @BeforeEach
    void start() {
        schema = TestDatabase.newSchemaName();
        store = PostgresJobStore.open(TestDatabase.options(schema));
        EngineConfig config = EngineConfig.builder(NODE).loadInterval(Duration.ofMillis(50))
                .defaultBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(8)))
                .shutdownGrace(Duration.ofSeconds(2)).build();
        engine = Hourglass.builder()
                .store(store, false)
                .clock(clock, clock)
                .config(config)
                .handler("work", ctx -> {
                    runs.incrementAndGet();
                    return Outcome.succeeded();
                })
                .build();
    }

    @AfterEach
    void stop() {
        engine.close();
        store.close();
        TestDatabase.dropSchema(schema);
    }

    @Test
    void aNodeWhoseRenewalIsRefusedStartsNothingUntilARenewalGoesThrough() throws Exception {
        JobId id = engine.schedule(JobRequest.of("work", "x".getBytes(StandardCharsets.UTF_8)),
                When.after(Duration.ofSeconds(12))).job().id();
        await().atMost(Duration.ofSeconds(10)).until(() -> store.find(id).orElseThrow().owner() != null);

        try (Connection rescuer = TestDatabase.raw(schema)) {
            assertThat(holdNodeLock(rescuer)).isTrue();
            // The lease renewed at T0 runs out at T0 + 10 s; the job is due at T0 + 12 s.
            clock.advance(Duration.ofSeconds(13));
            // Twenty rounds, each refused, and nothing starts meanwhile.
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                    .until(() -> runs.get() == 0);
            assertThat(runs.get()).as("no start while the lease is not renewed").isZero();
            assertThat(store.find(id).orElseThrow().state()).isEqualTo(JobState.SCHEDULED);
        }

        // The rescuer let go without rescuing: the next round renews the lease and the job runs.
        await().atMost(Duration.ofSeconds(10)).until(() -> store.find(id).orElseThrow().state() == JobState.SUCCEEDED);
        assertThat(runs.get()).isEqualTo(1);
    }

    /** Takes the node's lock for this session (until the connection closes), as a rescuer's transaction would. */
    private static boolean holdNodeLock(Connection connection) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement("SELECT pg_try_advisory_lock(hashtextextended("
                + "'hourglass node ' || current_schema() || ' ' || ?, 0))")) {
            lock.setString(1, NODE);
            try (ResultSet rs = lock.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
