package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.store.postgres.PostgresOptions;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
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
    private static final String URL = env("HOURGLASS_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    private static final String USER = env("HOURGLASS_TEST_PG_USER", "postgres");
    private static final String PASSWORD = env("HOURGLASS_TEST_PG_PASSWORD", null);

    @TempDir
    Path dir;

    private final String schema = "hg_server_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private ServerFixture api;
    private Receiver receiver;

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

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
        Properties props = new Properties();
        props.setProperty("user", USER);
        if (PASSWORD != null) {
            props.setProperty("password", PASSWORD);
        }
        try (Connection c = DriverManager.getConnection(URL, props); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
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

        Properties props = new Properties();
        props.setProperty("user", USER);
        if (PASSWORD != null) {
            props.setProperty("password", PASSWORD);
        }
        try (Connection c = DriverManager.getConnection(URL, props); Statement s = c.createStatement();
                var rs = s.executeQuery("SELECT state FROM " + schema + ".jobs WHERE id = '" + id + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("SUCCEEDED");
        }
    }
}
