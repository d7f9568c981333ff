package dev.hourglass.tenancy;

import static dev.hourglass.store.testkit.TestJobs.T0;
import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresMigrations;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The tenant store conformance suite on a real PostgreSQL server, plus what only the PostgreSQL store promises. Each
 * test gets a fresh schema of its own (see {@link TestDatabase}), dropped afterwards.
 */
class PostgresTenantStoreTest extends TenantStoreContract {

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

    private PostgresJobStore open(PostgresOptions options) {
        PostgresJobStore other = PostgresJobStore.open(options);
        others.add(other);
        return other;
    }

    @Nested
    class Persistence {

        @Test
        void tenantsAndKeysSurviveCloseAndReopen() {
            PostgresOptions options = postgres().options();
            ApiKey first = create(tenant("acme"));
            Tenant other = tenant("other").withWeight(2);
            ApiKey otherFirst = create(other);
            ApiKey revoked = key("acme-k2", "acme", T0.plusSeconds(1));
            assertThat(tenants.addKey(revoked)).isTrue();
            assertThat(tenants.revokeKey("acme", revoked.id(), T0.plusSeconds(2))).isTrue();
            Tenant updated = tenant("acme").withWeight(9).withWebhookSecrets(List.of("whsec_z", "whsec_bbbb"))
                    .withUpdatedAt(T0.plusSeconds(3));
            assertThat(tenants.update(updated)).isTrue();
            store.close();

            store = PostgresJobStore.open(options);
            tenants = JdbcTenantStore.on((SqlDatabase) store);

            assertThat(postgres().schemaVersion()).isEqualTo("10");
            assertThat(tenants.list()).containsExactly(updated, other);
            assertThat(tenants.keys("acme")).containsExactly(first,
                    new ApiKey(revoked.id(), "acme", revoked.hash(), revoked.createdAt(), T0.plusSeconds(2)));
            assertThat(tenants.activeKeys()).containsExactlyInAnyOrder(first, otherFirst);
        }
    }

    @Nested
    class SharedUse {

        @Test
        void everyNodeOnTheSchemaSeesTheSameTenantsAndKeys() {
            PostgresJobStore node = open(postgres().options());
            ApiKey first = create(tenant("acme"));

            assertThat(JdbcTenantStore.on(node).find("acme")).contains(tenant("acme"));
            assertThat(JdbcTenantStore.on(node).revokeKey("acme", first.id(), T0.plusSeconds(1))).isTrue();
            assertThat(tenants.activeKeys()).isEmpty();
            assertThat(JdbcTenantStore.on(node).create(tenant("acme"), key("acme-k2", "acme"))).as("name taken")
                    .isFalse();
        }

        @Test
        void theSchemaOptionAppliesToTheTenantTablesAsToJobs() throws SQLException {
            String elsewhere = TestDatabase.newSchemaName();
            schemas.add(elsewhere);
            PostgresJobStore other = open(TestDatabase.options(elsewhere));
            create(tenant("acme"));

            assertThat(JdbcTenantStore.on(other).list()).as("another schema, other tenants").isEmpty();
            assertThat(JdbcTenantStore.on(other).create(tenant("acme"), key("acme-k1", "acme")))
                    .as("the same name and key in another schema").isTrue();
            try (Connection connection = TestDatabase.raw(null);
                    PreparedStatement tables = connection.prepareStatement("SELECT table_name FROM "
                            + "information_schema.tables WHERE table_schema = ? ORDER BY table_name")) {
                tables.setString(1, schema());
                List<String> names = new ArrayList<>();
                try (ResultSet rs = tables.executeQuery()) {
                    while (rs.next()) {
                        names.add(rs.getString(1));
                    }
                }
                assertThat(names).contains("api_keys", "jobs", "tenants");
            }
        }
    }

    @Nested
    class Migration {

        @Test
        void aVersion1SchemaWithJobsUpgradesToVersion2KeepingItsJobs() throws SQLException {
            String v1 = TestDatabase.newSchemaName();
            schemas.add(v1);
            // The released V1 schema exactly: Flyway stopped at version 1 of the store's own scripts.
            Flyway.configure(getClass().getClassLoader())
                    .dataSource(TestDatabase.URL, TestDatabase.USER, TestDatabase.PASSWORD)
                    .locations(PostgresMigrations.LOCATION).schemas(v1).defaultSchema(v1).createSchemas(true)
                    .target("1").load().migrate();
            NewJob scheduled = job().tenant("acme").payload("{\"a\":1}").build();
            NewJob running = job().tenant("acme").build();
            NewJob failed = job().tenant("beta").build();
            try (Connection connection = TestDatabase.raw(v1)) {
                assertThat(tableExists(connection, v1, "tenants")).isFalse();
                insertV1Row(connection, scheduled, JobState.SCHEDULED);
                insertV1Row(connection, running, JobState.RUNNING);
                insertV1Row(connection, failed, JobState.FAILED);
            }

            PostgresJobStore upgraded = open(TestDatabase.options(v1));

            assertThat(upgraded.schemaVersion()).isEqualTo("10");
            Job kept = upgraded.find(scheduled.id()).orElseThrow();
            assertThat(kept.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(kept.payload()).isEqualTo(scheduled.payload());
            assertThat(upgraded.find(running.id())).get().extracting(Job::owner).isEqualTo("node-a");
            assertThat(upgraded.find(failed.id())).get().extracting(Job::state).isEqualTo(JobState.FAILED);
            assertThat(JdbcTenantStore.on(upgraded).pendingJobs()).isEqualTo(Map.of("acme", 2L));
            assertThat(JdbcTenantStore.on(upgraded).create(tenant("acme"), key("acme-k1", "acme"))).isTrue();
            try (Connection connection = TestDatabase.raw(v1); Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT version FROM flyway_schema_history "
                            + "WHERE version IS NOT NULL AND success ORDER BY installed_rank")) {
                List<String> versions = new ArrayList<>();
                while (rs.next()) {
                    versions.add(rs.getString(1));
                }
                assertThat(versions).containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
            }
        }

        private static boolean tableExists(Connection connection, String schema, String table) throws SQLException {
            try (PreparedStatement exists = connection.prepareStatement(
                    "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?")) {
                exists.setString(1, schema);
                exists.setString(2, table);
                try (ResultSet rs = exists.executeQuery()) {
                    return rs.next();
                }
            }
        }

        /** A jobs row as V1 defines it, written behind any store's back. */
        private static void insertV1Row(Connection connection, NewJob job, JobState state) throws SQLException {
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO jobs (id, due_at, created_at, "
                    + "updated_at, finished_at, backoff_initial_ms, backoff_max_ms, attempts, max_attempts, state, "
                    + "tenant, handler, owner, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                insert.setObject(1, new java.util.UUID(job.id().hi(), job.id().lo()));
                insert.setLong(2, job.dueAt().toEpochMilli());
                insert.setLong(3, job.createdAt().toEpochMilli());
                insert.setLong(4, job.createdAt().toEpochMilli());
                insert.setObject(5, state.isTerminal() ? job.createdAt().toEpochMilli() : null, java.sql.Types.BIGINT);
                insert.setLong(6, job.backoff().initial().toMillis());
                insert.setLong(7, job.backoff().max().toMillis());
                insert.setInt(8, state == JobState.SCHEDULED ? 0 : 1);
                insert.setInt(9, job.maxAttempts());
                insert.setString(10, state.name());
                insert.setString(11, job.tenant());
                insert.setString(12, job.handler());
                insert.setString(13, state == JobState.RUNNING ? "node-a" : null);
                insert.setBytes(14, job.payload());
                insert.executeUpdate();
            }
        }
    }

    @Nested
    class Schema {

        @Test
        void namesAndKeyIdsCompareBytewiseWhateverTheDatabasesCollation() throws SQLException {
            try (Connection connection = TestDatabase.raw(null);
                    PreparedStatement columns = connection.prepareStatement("SELECT table_name, column_name, "
                            + "collation_name FROM information_schema.columns WHERE table_schema = ? "
                            + "AND (table_name, column_name) IN (('tenants', 'name'), ('api_keys', 'id'), "
                            + "('api_keys', 'tenant'))")) {
                columns.setString(1, schema());
                int seen = 0;
                try (ResultSet rs = columns.executeQuery()) {
                    while (rs.next()) {
                        seen++;
                        assertThat(rs.getString(3)).as(rs.getString(1) + "." + rs.getString(2)).isEqualTo("C");
                    }
                }
                assertThat(seen).isEqualTo(3);
            }
        }

        @Test
        void rawSqlCannotStoreATenantTheRecordsWouldRefuse() throws SQLException {
            create(tenant("acme"));

            try (Connection connection = TestDatabase.raw(schema());
                    Statement statement = connection.createStatement()) {
                for (String column : List.of("weight", "max_pending_jobs", "schedules_per_second", "schedule_burst",
                        "max_delay_ms", "max_in_flight")) {
                    assertThatThrownBy(() -> statement.executeUpdate("UPDATE tenants SET " + column + " = 0"))
                            .as(column).isInstanceOf(SQLException.class).hasMessageContaining("violates check");
                }
                for (String secrets : List.of("'{}'", "'{{a},{b}}'", "ARRAY['a', NULL]")) {
                    assertThatThrownBy(() -> statement.executeUpdate(
                            "UPDATE tenants SET webhook_secrets = " + secrets))
                            .as(secrets).isInstanceOf(SQLException.class).hasMessageContaining("violates check");
                }
                assertThatThrownBy(() -> statement.executeUpdate("INSERT INTO api_keys (id, tenant, hash, "
                        + "created_at) VALUES ('k', 'nobody', 'h', 0)"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("foreign key");
            }
            assertThat(tenants.find("acme")).contains(tenant("acme"));
        }
    }
}
