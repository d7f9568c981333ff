package dev.hourglass.metrics;

import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import java.sql.SQLException;
import java.util.UUID;

/** {@link HourglassMetricsContract} on a real PostgreSQL server, in a schema of its own, dropped afterwards. */
class MetricsOnPostgresTest extends HourglassMetricsContract {
    private final String schema = "hg_meters_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

    @Override
    protected JobStore openStore() {
        return PostgresJobStore.open(PostgresOptions.of(TestDatabase.URL, TestDatabase.USER, TestDatabase.PASSWORD)
                .withPoolSize(4).withSchema(schema));
    }

    @Override
    protected String storeKind() {
        return "postgres";
    }

    @Override
    protected void dispose() throws SQLException {
        TestDatabase.dropSchema(schema);
    }
}
