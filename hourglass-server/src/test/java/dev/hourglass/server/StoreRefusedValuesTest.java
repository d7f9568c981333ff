package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A value that reaches the store and that the store cannot keep (here an instant before 64-bit epoch milliseconds
 * begin, and a NUL byte in {@code Idempotency-Key}, which the request validation lets through) is the request's fault:
 * 400 problem+json naming the field, never a 503, nothing stored; and the other callers whose writes shared its group
 * commit all succeed. On both stores.
 *
 * <p>Should the validation learn to refuse such values first, the answer stays a 400 naming the field (then of type
 * {@code invalid-request} rather than {@code invalid-data}); the engine and store tests keep the store's own refusal
 * covered.
 */
class StoreRefusedValuesTest {
    private static final String TARGET = "\"target\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/hook\"}";
    private static final String BEYOND = "-999999999-01-01T00:00:00Z";
    private static final List<String> BAD_INPUT_TYPES =
            List.of("urn:hourglass:problem:invalid-data", "urn:hourglass:problem:invalid-request");

    @TempDir
    Path dir;

    private ServerFixture api;
    private String schema;

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
        if (schema != null) {
            TestDatabase.dropSchema(schema);
        }
    }

    private void start(String store) {
        ServerConfig config = ServerFixture.config(dir);
        if (store.equals("postgres")) {
            schema = "hg_refused_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            config = config.withPostgres(PostgresOptions.of(TestDatabase.URL, TestDatabase.USER, TestDatabase.PASSWORD)
                    .withPoolSize(4).withSchema(schema));
        }
        api = ServerFixture.start(config);
    }

    private static void assertRefused(Response r, String field) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.contentType()).isEqualTo("application/problem+json");
        JsonNode problem = r.json();
        assertThat(problem.get("type").asText()).isIn(BAD_INPUT_TYPES);
        assertThat(problem.get("detail").asText()).contains(field);
        List<String> fields = new ArrayList<>();
        problem.get("errors").forEach(e -> fields.add(e.get("field").asText()));
        assertThat(fields).contains(field);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgres"})
    void aRunAtTheStoreCannotKeepIs400AndTheOtherSchedulesAllSucceed(String store) throws Exception {
        start(store);
        int rounds = 15;
        ExecutorService pool = Executors.newFixedThreadPool(5);
        List<Future<Response>> bad = new ArrayList<>();
        List<Future<Response>> good = new ArrayList<>();
        try {
            for (int i = 0; i < rounds; i++) {
                for (int t = 0; t < 2; t++) {
                    bad.add(pool.submit(() -> api.post("/v1/jobs",
                            "{\"runAt\": \"" + BEYOND + "\", " + TARGET + "}")));
                }
                for (int t = 0; t < 3; t++) {
                    good.add(pool.submit(() -> api.post("/v1/jobs", "{\"delaySeconds\": 3600, " + TARGET + "}")));
                }
            }
            for (Future<Response> answer : good) {
                Response r = answer.get(60, TimeUnit.SECONDS);
                assertThat(r.status()).as(r.body()).isEqualTo(201);
            }
            for (Future<Response> answer : bad) {
                assertRefused(answer.get(60, TimeUnit.SECONDS), "runAt");
            }
        } finally {
            pool.shutdownNow();
        }
        List<JsonNode> stored = api.allJobs();
        assertThat(stored).hasSize(3 * rounds);
        assertThat(stored).allSatisfy(job -> assertThat(job.get("dueAt").asText()).doesNotStartWith("-"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgres"})
    void aRescheduleToARunAtTheStoreCannotKeepIs400AndChangesNothing(String store) {
        start(store);
        JsonNode job = api.schedule("{\"delaySeconds\": 3600, " + TARGET + "}");
        String id = job.get("id").asText();

        assertRefused(api.post("/v1/jobs/" + id + "/reschedule", "{\"runAt\": \"" + BEYOND + "\"}"), "runAt");

        JsonNode now = api.get("/v1/jobs/" + id).json();
        assertThat(now.get("dueAt").asText()).isEqualTo(job.get("dueAt").asText());
        assertThat(now.get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(api.post("/v1/jobs/" + id + "/reschedule", "{\"delaySeconds\": 60}").status()).isEqualTo(200);
    }

    /**
     * A NUL byte in {@code Idempotency-Key}: PostgreSQL cannot keep it in text, so neither store keeps it (the same
     * key rules on both). Sent on a raw socket: the JDK's client refuses to send such a header.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgres"})
    void aNulInTheIdempotencyKeyIs400OnBothStores(String store) throws Exception {
        start(store);
        String body = "{\"delaySeconds\": 3600, " + TARGET + "}";
        String answer;
        try (Socket socket = new Socket("127.0.0.1", api.server().port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + ServerFixture.API_KEY + "\r\nConnection: close\r\n"
                    + "Idempotency-Key: a\0b\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }

        assertThat(answer).startsWith("HTTP/1.1 400");
        assertThat(answer).containsIgnoringCase("content-type: application/problem+json");
        // The HTTP server itself refuses a NUL in any header field (RFC 9110 forbids it), naming the headers.
        assertThat(answer).containsAnyOf("\"Idempotency-Key\"", "\"headers\"");
        assertThat(api.allJobs()).isEmpty();
        assertThat(api.post("/v1/jobs", body, "Idempotency-Key", "ab").status()).isEqualTo(201);
    }
}
