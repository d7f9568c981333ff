package dev.hourglass.tenancy;

import static dev.hourglass.store.testkit.TestJobs.T0;
import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.sqlite.SqliteJobStore;
import dev.hourglass.store.sqlite.SqliteMigrations;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tenant store conformance suite on a real SQLite file, plus what only the SQLite store promises. */
class SqliteTenantStoreTest extends TenantStoreContract {

    private static final AtomicInteger FILES = new AtomicInteger();

    @TempDir
    Path dir;

    @Override
    protected JobStore openStore() {
        return SqliteJobStore.open(dir.resolve("tenants-" + FILES.incrementAndGet()).resolve("jobs.db"));
    }

    private SqliteJobStore sqlite() {
        return (SqliteJobStore) store;
    }

    private static Connection raw(Path file) throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    private void reopen() {
        Path file = sqlite().file();
        store.close();
        store = SqliteJobStore.open(file);
        tenants = JdbcTenantStore.on((SqlDatabase) store);
    }

    @Nested
    class Persistence {

        @Test
        void tenantsAndKeysSurviveCloseAndReopen() {
            ApiKey first = create(tenant("acme"));
            Tenant other = tenant("other").withWeight(2);
            ApiKey otherFirst = create(other);
            ApiKey revoked = key("acme-k2", "acme", T0.plusSeconds(1));
            assertThat(tenants.addKey(revoked)).isTrue();
            assertThat(tenants.revokeKey("acme", revoked.id(), T0.plusSeconds(2))).isTrue();
            Tenant updated = tenant("acme").withWeight(9).withWebhookSecrets(List.of("whsec_z", "whsec_bbbb"))
                    .withUpdatedAt(T0.plusSeconds(3));
            assertThat(tenants.update(updated)).isTrue();

            reopen();

            assertThat(sqlite().schemaVersion()).isEqualTo("8");
            assertThat(tenants.list()).containsExactly(updated, other);
            assertThat(tenants.keys("acme")).containsExactly(first,
                    new ApiKey(revoked.id(), "acme", revoked.hash(), revoked.createdAt(), T0.plusSeconds(2)));
            assertThat(tenants.activeKeys()).containsExactlyInAnyOrder(first, otherFirst);
            assertThat(tenants.findKeyByHash(revoked.hash())).get().extracting(ApiKey::active).isEqualTo(false);
        }
    }

    @Nested
    class Migration {

        @Test
        void aVersion1FileWithJobsUpgradesToVersion2KeepingItsJobs() throws SQLException {
            store.close();
            store = null;
            Path file = dir.resolve("released-v1.db");
            // The released V1 schema exactly: Flyway stopped at version 1 of the store's own scripts.
            Flyway.configure(getClass().getClassLoader()).dataSource("jdbc:sqlite:" + file, null, null)
                    .locations(SqliteMigrations.LOCATION).target("1").load().migrate();
            NewJob scheduled = job().tenant("acme").payload("{\"a\":1}").build();
            NewJob succeeded = job().tenant("acme").build();
            try (Connection connection = raw(file)) {
                assertThat(tables(connection)).contains("jobs").doesNotContain("tenants", "api_keys");
                insertV1Row(connection, scheduled, JobState.SCHEDULED);
                insertV1Row(connection, succeeded, JobState.SUCCEEDED);
            }

            store = SqliteJobStore.open(file);
            tenants = JdbcTenantStore.on((SqlDatabase) store);

            assertThat(sqlite().schemaVersion()).isEqualTo("8");
            Job kept = store.find(scheduled.id()).orElseThrow();
            assertThat(kept.tenant()).isEqualTo("acme");
            assertThat(kept.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(kept.payload()).isEqualTo(scheduled.payload());
            assertThat(store.find(succeeded.id())).get().extracting(Job::state).isEqualTo(JobState.SUCCEEDED);
            assertThat(tenants.pendingJobs()).isEqualTo(Map.of("acme", 1L));
            assertThat(tenants.list()).isEmpty();
            create(tenant("acme"));
            assertThat(tenants.find("acme")).contains(tenant("acme"));
        }

        private static List<String> tables(Connection connection) throws SQLException {
            List<String> tables = new ArrayList<>();
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            return tables;
        }

        /** A jobs row as V1 defines it, written behind any store's back. */
        private static void insertV1Row(Connection connection, NewJob job, JobState state) throws SQLException {
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO jobs (seq, id_lo, tenant, "
                    + "handler, payload, state, due_at, created_at, updated_at, finished_at, attempts, max_attempts, "
                    + "backoff_initial_ms, backoff_max_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)")) {
                insert.setLong(1, job.id().hi());
                insert.setLong(2, job.id().lo());
                insert.setString(3, job.tenant());
                insert.setString(4, job.handler());
                insert.setBytes(5, job.payload());
                insert.setString(6, state.name());
                insert.setLong(7, job.dueAt().toEpochMilli());
                insert.setLong(8, job.createdAt().toEpochMilli());
                insert.setLong(9, job.createdAt().toEpochMilli());
                if (state.isTerminal()) {
                    insert.setLong(10, job.createdAt().toEpochMilli());
                } else {
                    insert.setNull(10, java.sql.Types.INTEGER);
                }
                insert.setInt(11, job.maxAttempts());
                insert.setLong(12, job.backoff().initial().toMillis());
                insert.setLong(13, job.backoff().max().toMillis());
                insert.executeUpdate();
            }
        }
    }

    @Nested
    class Schema {

        @Test
        void theWriterEnforcesThatAKeyBelongsToAnExistingTenant() {
            // Behind TenantStore's own check (addKey inserts only if the tenant exists): the REFERENCES clause,
            // which SQLite enforces only on connections that turn foreign_keys on, as the store's writer does.
            assertThatThrownBy(() -> sqlite().writeSql("orphan key", connection -> connection.createStatement()
                    .executeUpdate("INSERT INTO api_keys (id, tenant, hash, created_at) "
                            + "VALUES ('k', 'nobody', 'h', 0)")))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("FOREIGN KEY");
            assertThat(tenants.findKeyByHash("h")).isEmpty();
        }

        @Test
        void rawSqlCannotStoreATenantTheRecordsWouldRefuse() throws SQLException {
            create(tenant("acme"));

            try (Connection connection = raw(sqlite().file()); Statement statement = connection.createStatement()) {
                for (String column : List.of("weight", "max_pending_jobs", "schedules_per_second", "schedule_burst",
                        "max_delay_ms", "max_in_flight")) {
                    assertThatThrownBy(() -> statement.executeUpdate("UPDATE tenants SET " + column + " = 0"))
                            .as(column).hasMessageContaining("CHECK");
                }
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE tenants SET weight = 1001"))
                        .hasMessageContaining("CHECK");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE tenants SET max_payload_bytes = -1"))
                        .hasMessageContaining("CHECK");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE tenants SET webhook_secrets = ''"))
                        .hasMessageContaining("CHECK");
                assertThatThrownBy(() -> statement.executeUpdate("UPDATE tenants SET created_at = 'now'"))
                        .as("STRICT table").isInstanceOf(SQLException.class);
            }
            assertThat(tenants.find("acme")).contains(tenant("acme"));
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

        @Test
        void keyLookupsUseTheirIndexes() throws SQLException {
            assertThat(plan(JdbcTenantStore.FIND_KEY_BY_HASH, "h"))
                    .anySatisfy(l -> assertThat(l).contains("USING INDEX sqlite_autoindex_api_keys"));
            assertThat(plan(JdbcTenantStore.KEYS_OF_TENANT, "acme"))
                    .anySatisfy(l -> assertThat(l).contains("USING INDEX api_keys_tenant"));
            assertThat(plan(JdbcTenantStore.FIND_TENANT, "acme"))
                    .anySatisfy(l -> assertThat(l).contains("USING INDEX sqlite_autoindex_tenants"));
        }
    }

    @Nested
    class SharedWriter {

        @Test
        void tenantWritesInterleaveWithJobBatchesWithoutBusyErrors() throws Exception {
            int rounds = 30;
            List<NewJob> jobs = new ArrayList<>();
            try (ExecutorService threads = Executors.newFixedThreadPool(3)) {
                List<Future<?>> futures = new ArrayList<>();
                futures.add(threads.submit(() -> {
                    for (int i = 0; i < rounds; i++) {
                        List<NewJob> batch = List.of(job().tenant("t" + (i % 3)).build(), job().build());
                        synchronized (jobs) {
                            jobs.addAll(batch);
                        }
                        store.write(i % 2 == 0 ? Durability.LAZY : Durability.FSYNC, tx -> tx.insert(batch));
                    }
                    return null;
                }));
                for (int w = 0; w < 2; w++) {
                    int writer = w;
                    futures.add(threads.submit(() -> {
                        for (int i = 0; i < rounds; i++) {
                            String name = "w" + writer + "-" + i;
                            create(tenant(name));
                            assertThat(tenants.revokeKey(name, name + "-k1", T0)).isTrue();
                        }
                        return null;
                    }));
                }
                for (Future<?> future : futures) {
                    future.get(60, TimeUnit.SECONDS);
                }
            }
            assertThat(tenants.list()).hasSize(2 * rounds);
            assertThat(tenants.activeKeys()).isEmpty();
            assertThat(jobs).allSatisfy(j -> assertThat(store.find(j.id())).isPresent());
            assertThat(tenants.pendingJobs().values().stream().mapToLong(Long::longValue).sum())
                    .isEqualTo(2L * rounds);
        }
    }
}
