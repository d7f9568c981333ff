package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server on the PostgreSQL store (a real server; see hourglass-store-postgres/README.md for the env vars), in a
 * schema of its own that is dropped afterwards: the same API, webhooks delivered, state kept in PostgreSQL.
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
        api = ServerFixture.start(ServerFixture.config(dir).withPostgres(pg));
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
}
