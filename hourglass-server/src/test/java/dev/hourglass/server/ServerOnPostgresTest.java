package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server on the PostgreSQL store (a real server; see hourglass-store-postgres/README.md for the env vars), in a
 * schema of its own that is dropped afterwards: the same API, webhooks and queue messages delivered, state kept in
 * PostgreSQL.
 */
class ServerOnPostgresTest {
    private static final String URL = TestDatabase.URL;
    private static final String USER = TestDatabase.USER;
    private static final String PASSWORD = TestDatabase.PASSWORD;

    @TempDir
    Path dir;

    private final String schema = "hg_server_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private ServerFixture api;
    private Receiver receiver;

    @BeforeEach
    void start() {
        receiver = new Receiver();
        PostgresOptions pg = PostgresOptions.of(URL, USER, PASSWORD).withPoolSize(4).withSchema(schema);
        api = ServerFixture.start(ServerFixture.config(dir).withPostgres(pg)
                .withConnections(List.of(QueueConnection.parse("r=redis://127.0.0.1:6379/0"))));
    }

    @AfterEach
    void stop() throws SQLException {
        receiver.close();
        api.close();
        TestDatabase.dropSchema(schema);
    }

    @Test
    void schedulesDeliversAndKeepsStateInPostgres() throws SQLException {
        assertThat(api.server().storeFile()).isNull();
        assertThat(api.server().storeDescription()).contains("PostgreSQL").contains(schema);

        JsonNode job = api.schedule("{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", \"url\": \""
                + receiver.url("/pg") + "\"}, \"payload\": {\"n\": 7}}");
        String id = job.get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("SUCCEEDED"));
        assertThat(receiver.deliveries("/pg")).hasSize(1);
        assertThat(receiver.deliveries("/pg").getFirst().header("Hourglass-Job-Id")).isEqualTo(id);

        try (Connection c = TestDatabase.raw(null); Statement s = c.createStatement();
                var rs = s.executeQuery("SELECT state FROM " + schema + ".jobs WHERE id = '" + id + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("SUCCEEDED");
        }
    }

    @Test
    void aJobToAQueueIsDeliveredAndATenantsConnectionsAreKeptInPostgres() throws SQLException {
        String stream = "hg-server-pg:" + schema;
        RedisClient client = RedisClient.create("redis://127.0.0.1:6379/0");
        try (StatefulRedisConnection<String, String> redis = client.connect()) {
            JsonNode job = api.schedule("{\"delaySeconds\": 0, \"target\": {\"type\": \"redis\", "
                    + "\"connection\": \"r\", \"stream\": \"" + stream + "\"}, \"payload\": {\"n\": 8}}");
            String id = job.get("id").asText();
            await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("SUCCEEDED"));
            assertThat(redis.sync().xrange(stream, Range.create("-", "+")))
                    .singleElement().satisfies(e -> assertThat(e.getBody()).containsEntry("hourglass-job-id", id));
            redis.sync().del(stream);
        } finally {
            client.shutdown();
        }

        ServerFixture.Response acme = api.post("/v1/admin/tenants", "{\"name\": \"acme\", \"connections\": []}",
                ServerFixture.bearer(ServerFixture.ADMIN_KEY));
        assertThat(acme.status()).as(acme.body()).isEqualTo(201);
        try (Connection c = TestDatabase.raw(null); Statement s = c.createStatement();
                var rs = s.executeQuery("SELECT queue_connections FROM " + schema + ".tenants WHERE name = 'acme'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).as("no connection at all, not every one").isEmpty();
        }
        ServerFixture.Response refused = api.post("/v1/jobs", "{\"delaySeconds\": 0, \"target\": {\"type\": "
                + "\"redis\", \"connection\": \"r\", \"stream\": \"s\"}}", ServerFixture.bearer(
                        acme.json().get("apiKey").asText()));
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
    }
}
