package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Input that a store would refuse or keep wrongly is refused by validation first, with the same answer on every
 * store: instants outside years 0000..9999 (every time field) and {@code Idempotency-Key}s that are not printable
 * ASCII. Each is a 400 naming the field, nothing is stored, and another tenant scheduling meanwhile sees every one
 * of its writes succeed. Run on the SQLite server and on a PostgreSQL-backed one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class StoreBoundInputContract {
    static final String TARGET = "\"target\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/hook\"}";

    private Path dir;
    private ServerFixture api;
    private String otherKey;
    private String jobId;
    private String jobDueAt;
    private int created;

    /** The server's configuration on this store, with its data directory {@code dir}. */
    protected abstract ServerConfig config(Path dir);

    /** Removes what {@link #config} made outside {@code dir}, after the server stopped. */
    protected void dispose() {}

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("hg-store-bound-input");
        api = ServerFixture.start(config(dir));
        Response tenant = api.post("/v1/admin/tenants", "{\"name\": \"other\"}", bearer(ADMIN_KEY));
        assertThat(tenant.status()).as(tenant.body()).isEqualTo(201);
        otherKey = tenant.json().get("apiKey").asText();
        JsonNode job = api.schedule("{\"delaySeconds\": 3600, " + TARGET + "}");
        jobId = job.get("id").asText();
        jobDueAt = job.get("dueAt").asText();
        created = 1;
    }

    @AfterAll
    void stop() {
        api.close();
        dispose();
    }

    @AfterEach
    void nothingElseWasStoredOrChanged() {
        assertThat(api.allJobs()).as("the default tenant's jobs").hasSize(created);
        assertThat(api.get("/v1/jobs/" + jobId).json().get("dueAt").asText()).isEqualTo(jobDueAt);
    }

    /** Runs {@code bad} while tenant "other" schedules valid jobs; every one of those must answer 201. */
    private void whileAnotherTenantWrites(Runnable bad) throws InterruptedException {
        AtomicBoolean done = new AtomicBoolean();
        List<Integer> statuses = new CopyOnWriteArrayList<>();
        Thread writer = Thread.ofVirtual().start(() -> {
            while (!done.get() || statuses.size() < 3) {
                statuses.add(api.post("/v1/jobs", "{\"delaySeconds\": 3600, " + TARGET + "}", bearer(otherKey))
                        .status());
            }
        });
        try {
            for (int i = 0; i < 5; i++) {
                bad.run();
            }
        } finally {
            done.set(true);
            writer.join();
        }
        assertThat(statuses).as("the other tenant's schedules").isNotEmpty().containsOnly(201);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"-999999999-01-01T00:00:00Z\"", "\"-0001-01-01T00:00:00Z\"",
        "\"-100000-01-01T00:00:00Z\"", "\"+10000-01-01T00:00:00Z\"", "\"10000-01-01T00:00:00Z\"",
        "\"+2026-11-26T17:00:00Z\"", "\"0000-01-01T00:00:00+00:01\"", "\"9999-12-31T23:59:59.9999Z\"",
        "\"2016-12-31T23:59:60Z\"", "\"2026-11-26T17:00:00+19:00\"", "253402300800000", "9223372036854775807"})
    void anInstantOutsideTheRangeIsRefusedOnEveryTimeField(String runAt) throws InterruptedException {
        whileAnotherTenantWrites(() -> {
            BadInputTest.assertFieldProblem(api.post("/v1/jobs", "{\"runAt\": " + runAt + ", " + TARGET + "}"),
                    400, "runAt");
            BadInputTest.assertFieldProblem(api.post("/v1/jobs", "{\"runAt\": " + runAt + ", " + TARGET + "}",
                    "Idempotency-Key", "same-key"), 400, "runAt");
            BadInputTest.assertFieldProblem(api.post("/v1/jobs/" + jobId + "/reschedule", "{\"runAt\": " + runAt
                    + "}"), 400, "runAt");
        });
    }

    /**
     * An {@code Idempotency-Key} sent as raw bytes (the JDK client refuses to send control characters): NUL, C0
     * controls, DEL, and non-ASCII in UTF-8 and Latin-1. Each is 400 naming the header, and nothing is stored. A
     * control character is not a valid header character at all (RFC 9110): the HTTP server refuses those first,
     * naming {@code headers}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"00", "6b00", "01", "0b", "1b5b", "7f", "c3a9", "e9", "f09f9491", "efbfbd", "80"})
    void anIdempotencyKeyThatIsNotPrintableAsciiIsRefused(String hexBytes) throws Exception {
        byte[] key = HexFormat.of().parseHex("6b6579" + hexBytes + "6b6579"); // "key" + bytes + "key"
        whileAnotherTenantWrites(() -> {
            String answer = rawSchedule(key);
            assertThat(answer).startsWith("HTTP/1.1 400");
            assertThat(answer).containsIgnoringCase("content-type: application/problem+json");
            if (hexBytes.matches("(..)*(0.|1.|7f).*")) {
                assertThat(answer).contains("\"field\":\"headers\"");
            } else {
                assertThat(answer).contains("\"field\":\"Idempotency-Key\"").contains("printable ASCII");
            }
        });
    }

    @Test
    void everyPrintableAsciiKeyIsKeptAndFoundAgain() {
        StringBuilder all = new StringBuilder();
        for (char c = 0x21; c <= 0x7e; c++) {
            all.append(c);
        }
        String key = ("k " + all).repeat(3).substring(0, 255);
        String body = "{\"delaySeconds\": 3600, " + TARGET + "}";
        Response first = api.post("/v1/jobs", body, "Idempotency-Key", key);
        assertThat(first.status()).as(first.body()).isEqualTo(201);
        created++;
        Response again = api.post("/v1/jobs", body, "Idempotency-Key", key);
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(again.json().get("id").asText()).isEqualTo(first.json().get("id").asText());
    }

    /** POST /v1/jobs over a socket with {@code key} as the Idempotency-Key's bytes; the whole answer, as text. */
    private String rawSchedule(byte[] key) {
        byte[] body = ("{\"delaySeconds\": 60, " + TARGET + "}").getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", api.server().port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + ServerFixture.API_KEY + "\r\nConnection: close\r\n"
                    + "Content-Length: " + body.length + "\r\nIdempotency-Key: ").getBytes(StandardCharsets.US_ASCII));
            out.write(key);
            out.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theFirstInstantOfTheRangeIsKeptAndEchoedAsWritten() {
        JsonNode job = api.schedule("{\"runAt\": \"0000-01-01T00:00:00Z\", \"maxAttempts\": 1, " + TARGET + "}");
        created++;
        assertThat(job.get("dueAt").asText()).isEqualTo("0000-01-01T00:00:00.000Z");
        String read = api.get("/v1/jobs/" + job.get("id").asText()).json().get("dueAt").asText();
        assertThat(read).isEqualTo("0000-01-01T00:00:00.000Z");
    }
}
