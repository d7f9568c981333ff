package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.ServerFixture.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The requests of the attack that issue 12 reported, replayed byte for byte over a raw socket against a real server
 * on its default store, each with the answer it must get now. {@code docs/security.md} lists the same requests and
 * answers; the classes behind each defect have their own tests (named there), this is the red-team list itself.
 *
 * <p>Every answer is {@code application/problem+json}, arrives within {@link #BOUND}, and nothing a refused request
 * carried is stored.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedTeamReplayTest {
    /** Far above a normal answer (milliseconds), far below the seconds the stalling requests used to take. */
    private static final Duration BOUND = Duration.ofSeconds(2);
    private static final String KEY = ServerFixture.API_KEY;
    private static final String TARGET = "\"target\": {\"type\": \"webhook\", \"url\": \"https://example.com/hook\"}";

    @TempDir
    static Path dir;
    private ServerFixture api;

    @BeforeAll
    void start() {
        api = ServerFixture.start(dir);
    }

    @AfterAll
    void stop() {
        api.close();
    }

    static Stream<Arguments> attacks() {
        return Stream.of(
                // 1: numbers whose scaling used to cost seconds of CPU, or a 500
                refused("backoff 1e-30000000", schedule("\"backoff\": {\"initialSeconds\": 1e-30000000, "
                        + "\"maxSeconds\": 1}"), 400, "backoff.initialSeconds"),
                refused("backoff 1e-999999999", schedule("\"backoff\": {\"initialSeconds\": 1e-999999999, "
                        + "\"maxSeconds\": 1}"), 400, "backoff.initialSeconds"),
                refused("delaySeconds 1e999999999", post("{\"delaySeconds\": 1e999999999, " + TARGET + "}"),
                        400, "delaySeconds"),
                refused("limit 1e400", get("/v1/jobs?limit=1e400"), 400, "limit"),
                // 2 and 9: instants the stores cannot keep, years RFC 3339 does not have
                refused("runAt year -999999999", at("-999999999-01-01T00:00:00Z"), 400, "runAt"),
                refused("runAt year -0001", at("-0001-01-01T00:00:00Z"), 400, "runAt"),
                refused("runAt year -100000", at("-100000-01-01T00:00:00Z"), 400, "runAt"),
                refused("runAt year +10000", at("+10000-01-01T00:00:00Z"), 400, "runAt"),
                // 6: URLs no attempt could ever deliver to
                refused("url with userinfo", url("http://user:p%40ss@127.0.0.1:19050/ok"), 400, "target.url"),
                refused("url port 0", url("http://127.0.0.1:0/ok"), 400, "target.url"),
                refused("url port 65536", url("http://127.0.0.1:65536/ok"), 400, "target.url"),
                // 7: keys a database refuses; a control character is not a header character, so the HTTP server
                // refuses it before the API sees it
                refused("NUL in Idempotency-Key", request("POST", "/v1/jobs", "Idempotency-Key: a\0b\r\n",
                        "{\"delaySeconds\": 60, " + TARGET + "}"), 400, "headers"),
                refused("a control character in Idempotency-Key", request("POST", "/v1/jobs",
                        "Idempotency-Key: a\u0001b\r\n", "{\"delaySeconds\": 60, " + TARGET + "}"), 400, "headers"),
                refused("a non-ASCII Idempotency-Key", request("POST", "/v1/jobs", "Idempotency-Key: caf\u00e9\r\n",
                        "{\"delaySeconds\": 60, " + TARGET + "}"), 400, "Idempotency-Key"),
                // 8: protocol-level errors
                refused("bad percent-escape in the query", get("/v1/jobs?state=%zz"), 400, "query"),
                refused("malformed Content-Length", "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
                        + "Authorization: Bearer " + KEY + "\r\nContent-Length: 12abc\r\nConnection: close\r\n\r\n",
                        400, "Content-Length"),
                refused("Content-Length with Transfer-Encoding", "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
                        + "Authorization: Bearer " + KEY + "\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                        + "2\r\n{}\r\n0\r\n\r\n", 400, "Transfer-Encoding"),
                refused("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 404,
                        null),
                refused("101 headers", request("GET", "/v1/jobs", manyHeaders(101), null), 431, "headers"),
                refused("a 65 KiB header", request("GET", "/v1/jobs", "X-Big: " + "a".repeat(65 * 1024) + "\r\n",
                        null), 431, "headers"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void eachAttackIsRefusedAsAProblemInBoundedTimeAndStoresNothing(String name, String request, int status,
            String field) throws IOException {
        int jobsBefore = api.allJobs().size();

        long started = System.nanoTime();
        String answer = exchange(api, request);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(answer).as(answer).startsWith("HTTP/1.1 " + status + " ");
        assertThat(answer).as("a problem, whatever refused it").containsIgnoringCase(
                "content-type: application/problem+json");
        if (field != null) {
            assertThat(answer.substring(answer.indexOf("\r\n\r\n"))).contains("\"field\":\"" + field + "\"");
        }
        assertThat(took).as("answered within the bound").isLessThan(BOUND);
        assertThat(api.allJobs()).as("nothing stored").hasSize(jobsBefore);
        assertThat(api.get("/healthz").status()).as("the server still answers").isEqualTo(200);
    }

    /** 5: a tenant whose horizon is 60 s cannot move a job beyond it by rescheduling. */
    @Test
    void aRescheduleIsHeldToTheTenantsHorizon() {
        Response created = api.post("/v1/admin/tenants",
                "{\"name\": \"redteam-horizon\", \"quotas\": {\"maxDelaySeconds\": 60}}",
                ServerFixture.bearer(ServerFixture.ADMIN_KEY));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String[] tenant = ServerFixture.bearer(created.json().get("apiKey").asText());
        Response job = api.post("/v1/jobs", "{\"delaySeconds\": 30, " + TARGET + "}", tenant);
        assertThat(job.status()).as(job.body()).isEqualTo(201);
        String id = job.json().get("id").asText();
        String dueAt = job.json().get("dueAt").asText();

        Response moved = api.post("/v1/jobs/" + id + "/reschedule", "{\"delaySeconds\": 259200000}", tenant);

        BadInputTest.assertProblem(moved, 429, "the job was not changed");
        assertThat(api.get("/v1/jobs/" + id, tenant).json().get("dueAt").asText()).isEqualTo(dueAt);
    }

    /** Settled alongside: guessing keys is throttled per client address. */
    @Test
    void guessingKeysIsThrottled() throws IOException {
        try (ServerFixture own = ServerFixture.start(dir.resolve("throttle"))) {
            String guess = "GET /v1/jobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer hgk_guess\r\n"
                    + "Connection: close\r\n\r\n";
            String last = "";
            for (int i = 0; i < 25 && !last.startsWith("HTTP/1.1 429"); i++) {
                last = exchange(own, guess);
            }
            assertThat(last).startsWith("HTTP/1.1 429").containsIgnoringCase("retry-after:")
                    .containsIgnoringCase("content-type: application/problem+json");
        }
    }

    private static Arguments refused(String name, String request, int status, String field) {
        return Arguments.of(name, request, status, field);
    }

    private static String schedule(String extra) {
        return post("{\"delaySeconds\": 60, " + TARGET + ", " + extra + "}");
    }

    private static String at(String runAt) {
        return post("{\"runAt\": \"" + runAt + "\", " + TARGET + "}");
    }

    private static String url(String url) {
        return post("{\"delaySeconds\": 60, \"target\": {\"type\": \"webhook\", \"url\": \"" + url + "\"}}");
    }

    private static String post(String body) {
        return request("POST", "/v1/jobs", "", body);
    }

    private static String get(String target) {
        return request("GET", target, "", null);
    }

    private static String manyHeaders(int count) {
        StringBuilder headers = new StringBuilder();
        for (int i = 0; i < count; i++) {
            headers.append("X-Header-").append(i).append(": ").append(i).append("\r\n");
        }
        return headers.toString();
    }

    /** A request with the default tenant's key; {@code headers} are whole lines, each ending in CRLF. */
    private static String request(String method, String target, String headers, String body) {
        String head = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + KEY
                + "\r\nConnection: close\r\n" + headers;
        if (body == null) {
            return head + "\r\n";
        }
        return head + "Content-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    /**
     * Sends the bytes as they are and reads the answer until the server closes the connection. The answer is read
     * while the request is still being written: a server that refuses a request before reading all of it (431)
     * answers and closes, and the unread rest makes the connection reset; what arrived before the reset counts.
     */
    private static String exchange(ServerFixture server, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.server().port())) {
            socket.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    socket.getInputStream().transferTo(answer);
                } catch (IOException resetAfterTheAnswer) {
                    // keep what arrived
                }
            });
            try {
                OutputStream out = socket.getOutputStream();
                out.write(request.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException refusedBeforeTheEnd) {
                // the answer, if any, is still read
            }
            try {
                reader.join(Duration.ofSeconds(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }
}
