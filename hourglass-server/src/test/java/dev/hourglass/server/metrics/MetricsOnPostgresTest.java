package dev.hourglass.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.Receiver;
import dev.hourglass.server.ServerFixture;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scripted run of {@link MetricsScenario} on a server on PostgreSQL: the same exact values. */
class MetricsOnPostgresTest {
    @TempDir
    Path dir;
    private final String schema = "hg_metrics_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final Receiver receiver = new Receiver();
    private ServerFixture api;

    @AfterEach
    void stop() throws SQLException {
        if (api != null) {
            api.close();
        }
        receiver.close();
        TestDatabase.dropSchema(schema);
    }

    @Test
    void aScriptedRunGivesExactCounts() {
        PostgresOptions pg = PostgresOptions.of(TestDatabase.URL, TestDatabase.USER, TestDatabase.PASSWORD)
                .withPoolSize(4).withSchema(schema);
        api = ServerFixture.start(ServerFixture.config(dir).withPostgres(pg));

        PrometheusText m = MetricsScenario.runAndCheck(api, receiver);

        assertThat(m.value("hourglass_store_commit_duration_seconds_count", "store", "postgres")).isPositive();
        assertThat(m.value("hourglass_clock_error_bound_seconds")).as("PostgreSQL has a clock").isBetween(0.0, 1.0);
        assertThat(m.value("hikaricp_connections_max")).as("the pool's own meters").isEqualTo(4);
    }
}
