package dev.hourglass.server;

import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import java.nio.file.Path;

/** {@link StoreBoundInputContract} on a server whose store is PostgreSQL, in a schema of its own. */
class StoreBoundInputOnPostgresTest extends StoreBoundInputContract {
    private final String schema = TestDatabase.newSchemaName();

    @Override
    protected ServerConfig config(Path dir) {
        PostgresOptions pg = PostgresOptions.of(TestDatabase.URL, TestDatabase.USER, TestDatabase.PASSWORD)
                .withPoolSize(4).withSchema(schema);
        return ServerFixture.config(dir).withPostgres(pg);
    }

    @Override
    protected void dispose() {
        TestDatabase.dropSchema(schema);
    }
}
