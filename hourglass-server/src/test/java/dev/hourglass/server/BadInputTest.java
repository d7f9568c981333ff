package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kind of bad request gets a problem+json answer with the right status whose detail and errors name the field;
 * never a 500, never a stack trace; and nothing is stored (checked after each test).
 */
class BadInputTest {
    private static final String TARGET = "\"target\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/hook\"}";

    @TempDir
    static Path dir;

    /** One server for the class (bad requests change nothing, which {@link #nothingWasStored} checks each time). */
    private static ServerFixture api;

    @BeforeAll
    static void start() {
        api = ServerFixture.start(dir);
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @AfterEach
    void nothingWasStored() {
        assertThat(api.allJobs()).as("jobs stored by bad requests").isEmpty();
    }

    /** Asserts a problem answer: status, media type, RFC 9457 members, and the field named in detail and errors. */
    static JsonNode assertProblem(Response r, int status, String field) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.contentType()).isEqualTo("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.get("type").asText()).isNotBlank();
        assertThat(p.get("title").asText()).isNotBlank();
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(p.get("detail").asText()).contains(field);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
        return p;
    }

    static JsonNode assertFieldProblem(Response r, int status, String field) {
        JsonNode p = assertProblem(r, status, field);
        List<String> fields = new ArrayList<>();
        p.get("errors").forEach(e -> {
            fields.add(e.get("field").asText());
            assertThat(e.get("rule").asText()).isNotBlank();
        });
        assertThat(fields).contains(field);
        return p;
    }

    private Response schedule(String body) {
        return api.post("/v1/jobs", body);
    }

    @Test
    void negativeDelay() {
        JsonNode p = assertFieldProblem(schedule("{\"delaySeconds\": -1, " + TARGET + "}"), 400, "delaySeconds");
        assertThat(p.get("detail").asText()).contains("between 0 and");
    }

    @Test
    void bothDelayAndRunAt() {
        JsonNode p = assertFieldProblem(
                schedule("{\"delaySeconds\": 5, \"runAt\": \"2099-01-01T00:00:00Z\", " + TARGET + "}"), 400,
                "delaySeconds");
        assertThat(p.get("detail").asText()).contains("runAt").contains("not both");
    }

    @Test
    void neitherDelayNorRunAt() {
        JsonNode p = assertFieldProblem(schedule("{" + TARGET + "}"), 400, "delaySeconds");
        assertThat(p.get("detail").asText()).contains("runAt").contains("required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"tomorrow\"", "\"2026-13-01T00:00:00Z\"", "\"2026-11-26 17:00:00Z\"",
        "\"2026-11-26T17:00:00\"", "\"2026-11-26T17:00Z\"", "\"2026-02-30T00:00:00Z\"", "-5", "1.5", "true", "{}"})
    void unparsableRunAt(String runAt) {
        JsonNode p = assertFieldProblem(schedule("{\"runAt\": " + runAt + ", " + TARGET + "}"), 400, "runAt");
        assertThat(p.get("detail").asText()).contains("RFC 3339");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.5", "\"10\"", "true", "[1]", "1e3"})
    void nonIntegerDelay(String delay) {
        JsonNode p = assertFieldProblem(schedule("{\"delaySeconds\": " + delay + ", " + TARGET + "}"), 400,
                "delaySeconds");
        assertThat(p.get("detail").asText()).contains("integer");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"delaySeconds\": 315360001", "\"delaySeconds\": 99999999999999999999999",
        "\"runAt\": \"2100-01-01T00:00:00Z\"", "\"runAt\": 9000000000000000000"})
    void absurdDelay(String when) {
        String field = when.contains("runAt") ? "runAt" : "delaySeconds";
        JsonNode p = assertFieldProblem(schedule("{" + when + ", " + TARGET + "}"), 400, field);
        assertThat(p.get("detail").asText()).contains("3650");
    }

    @Test
    void missingTarget() {
        assertFieldProblem(schedule("{\"delaySeconds\": 5}"), 400, "target");
    }

    @Test
    void targetThatIsNotAnObject() {
        assertFieldProblem(schedule("{\"delaySeconds\": 5, \"target\": \"http://x\"}"), 400, "target");
    }

    @Test
    void unknownTargetType() {
        JsonNode p = assertFieldProblem(schedule(
                "{\"delaySeconds\": 5, \"target\": {\"type\": \"email\", \"url\": \"http://a/b\"}}"), 400, "target.type");
        assertThat(p.get("detail").asText()).contains("webhook");
    }

    @Test
    void missingTargetType() {
        assertFieldProblem(schedule("{\"delaySeconds\": 5, \"target\": {\"url\": \"http://a/b\"}}"), 400,
                "target.type");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://example.com/x", "file:///etc/passwd", "example.com/hook", "javascript:alert(1)"})
    void nonHttpUrl(String url) {
        JsonNode p = assertFieldProblem(schedule(
                "{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\", \"url\": \"" + url + "\"}}"), 400,
                "target.url");
        assertThat(p.get("detail").asText()).contains("http");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http:///hook", "https://", "http://:8080/x"})
    void urlWithoutHost(String url) {
        JsonNode p = assertFieldProblem(schedule(
                "{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\", \"url\": \"" + url + "\"}}"), 400,
                "target.url");
        assertThat(p.get("detail").asText()).containsAnyOf("host", "valid URL");
    }

    @Test
    void malformedUrl() {
        assertFieldProblem(schedule(
                "{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\", \"url\": \"http://a b/\"}}"), 400,
                "target.url");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Idempotency-Key", "hourglass-job-id", "Hourglass-Attempt", "HOURGLASS-DUE-AT", "Host",
        "Content-Length"})
    void targetHeadersMayNotOverrideReservedOnes(String name) {
        JsonNode p = assertFieldProblem(schedule("{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\","
                + " \"url\": \"http://a/b\", \"headers\": {\"" + name + "\": \"x\"}}}"), 400, "target.headers");
        assertThat(p.get("detail").asText()).contains(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"Bad Name\": \"x\"}", "{\"X-Ok\": 5}", "{\"X-Ok\": \"a\\r\\nInjected: 1\"}", "[]"})
    void malformedTargetHeaders(String headers) {
        assertFieldProblem(schedule("{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\","
                + " \"url\": \"http://a/b\", \"headers\": " + headers + "}}"), 400, "target.headers");
    }

    @Test
    void payloadOver256KiB() {
        String big = "x".repeat(256 * 1024);
        JsonNode p = assertFieldProblem(schedule("{\"delaySeconds\": 5, " + TARGET + ", \"payload\": \"" + big + "\"}"),
                413, "payload");
        assertThat(p.get("detail").asText()).contains("262144");
    }

    @Test
    void bodyOverTheHardCapIsRefusedWithoutReadingItAll() throws Exception {
        // A raw socket: announce 2 MiB, send 64 KiB, and read the answer while the rest is never sent.
        try (Socket socket = new Socket("127.0.0.1", api.server().port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + ServerFixture.API_KEY + "\r\n"
                    + "Content-Length: " + (2 * 1024 * 1024) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[64 * 1024]);
            out.flush();
            String answer = readAnswer(socket.getInputStream());
            assertThat(answer).startsWith("HTTP/1.1 413");
            assertThat(answer).containsIgnoringCase("content-type: application/problem+json");
            assertThat(answer).contains("\"field\":\"body\"").contains("1048576");
        }
    }

    @Test
    void chunkedBodyOverTheHardCap() {
        byte[] body = new byte[1024 * 1024 + 10];
        Arrays.fill(body, (byte) ' ');
        Response r = api.send(HttpRequest.newBuilder(api.uri("/v1/jobs"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))),
                "Content-Type", "application/json");
        assertFieldProblem(r, 413, "body");
    }

    private static String readAnswer(InputStream in) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[4096];
        int n;
        while ((n = in.read(chunk)) > 0) {
            buf.write(chunk, 0, n);
            String text = buf.toString(StandardCharsets.UTF_8);
            int headerEnd = text.indexOf("\r\n\r\n");
            if (headerEnd > 0 && text.endsWith("}")) {
                return text;
            }
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"delaySeconds\": 5,", "not json", "{\"delaySeconds\": 5} {}", "",
        "{\"delaySeconds\": 5, \"delaySeconds\": 6}", "[1, 2]", "\"text\"", "null"})
    void malformedJson(String body) {
        assertFieldProblem(schedule(body), 400, "body");
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
        "application/jsonx"})
    void wrongContentType(String contentType) {
        Response r = api.post("/v1/jobs", "{\"delaySeconds\": 5, " + TARGET + "}", "Content-Type", contentType);
        assertFieldProblem(r, 415, "Content-Type");
    }

    @Test
    void missingContentType() {
        Response r = api.send(HttpRequest.newBuilder(api.uri("/v1/jobs"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"delaySeconds\": 5, " + TARGET + "}")));
        assertFieldProblem(r, 415, "Content-Type");
    }

    @ParameterizedTest
    @ValueSource(strings = {ApiTest.UNKNOWN_ID, "not-a-uuid", "123", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"})
    void unknownOrMalformedJobIdIs404(String id) {
        assertProblem(api.get("/v1/jobs/" + id), 404, "no job");
        assertProblem(api.delete("/v1/jobs/" + id), 404, "no job");
        assertProblem(api.post("/v1/jobs/" + id + "/reschedule", "{\"delaySeconds\": 5}"), 404, "no job");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "1001", "-1", "2.5", "\"3\""})
    void maxAttemptsOutOfRange(String value) {
        JsonNode p = assertFieldProblem(schedule("{\"delaySeconds\": 5, " + TARGET + ", \"maxAttempts\": " + value
                + "}"), 400, "maxAttempts");
        assertThat(p.get("detail").asText()).contains("between 1 and 1000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "3601", "-5", "0.5"})
    void timeoutSecondsOutOfRange(String value) {
        JsonNode p = assertFieldProblem(schedule("{\"delaySeconds\": 5, " + TARGET + ", \"timeoutSeconds\": " + value
                + "}"), 400, "timeoutSeconds");
        assertThat(p.get("detail").asText()).contains("between 1 and 3600");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"initialSeconds\": 0, \"maxSeconds\": 1}|backoff.initialSeconds",
        "{\"initialSeconds\": 5, \"maxSeconds\": 1}|backoff.maxSeconds",
        "{\"initialSeconds\": 1}|backoff.maxSeconds",
        "{\"initialSeconds\": 1, \"maxSeconds\": 100000}|backoff.maxSeconds",
        "{\"initialSeconds\": \"1\", \"maxSeconds\": 2}|backoff.initialSeconds",
        "{\"initial\": 1, \"initialSeconds\": 1, \"maxSeconds\": 2}|backoff.initial",
        "5|backoff"})
    void invalidBackoff(String caseText) {
        String[] parts = caseText.split("\\|");
        assertFieldProblem(schedule("{\"delaySeconds\": 5, " + TARGET + ", \"backoff\": " + parts[0] + "}"), 400,
                parts[1]);
    }

    @Test
    void unknownFieldIsRefusedByName() {
        JsonNode p = assertFieldProblem(schedule("{\"delaySecond\": 5, " + TARGET + "}"), 400, "delaySecond");
        assertThat(p.get("detail").asText()).contains("not a known field");
    }

    @Test
    void unknownNestedFieldIsRefusedByPath() {
        assertFieldProblem(schedule("{\"delaySeconds\": 5, \"target\": {\"type\": \"webhook\", \"url\": \"http://a/b\","
                + " \"method\": \"PUT\"}}"), 400, "target.method");
    }

    @Test
    void everyBrokenRuleIsReportedAtOnce() {
        JsonNode p = assertFieldProblem(schedule("{\"delaySeconds\": -1, \"maxAttempts\": 0, \"timeoutSeconds\": 0}"),
                400, "delaySeconds");
        List<String> fields = new ArrayList<>();
        p.get("errors").forEach(e -> fields.add(e.get("field").asText()));
        assertThat(fields).containsExactlyInAnyOrder("delaySeconds", "target", "maxAttempts", "timeoutSeconds");
    }

    @Test
    void idempotencyKeyTooLong() {
        Response r = api.post("/v1/jobs", "{\"delaySeconds\": 5, " + TARGET + "}", "Idempotency-Key", "k".repeat(256));
        assertFieldProblem(r, 400, "Idempotency-Key");
    }

    @Test
    void unknownPathIs404() {
        assertProblem(api.get("/v2/jobs"), 404, "/v2/jobs");
        assertProblem(api.get("/v1/jobs/" + ApiTest.UNKNOWN_ID + "/history"), 404, "history");
        assertProblem(api.get("/"), 404, "/");
    }

    @Test
    void wrongMethodIs405WithAllow() {
        Response put = api.send(HttpRequest.newBuilder(api.uri("/v1/jobs"))
                .PUT(HttpRequest.BodyPublishers.ofString("{}")), "Content-Type", "application/json");
        assertProblem(put, 405, "PUT");
        assertThat(put.header("Allow")).isEqualTo("GET, POST");

        Response patch = api.send(HttpRequest.newBuilder(api.uri("/v1/jobs/" + ApiTest.UNKNOWN_ID))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()));
        assertProblem(patch, 405, "PATCH");
        assertThat(patch.header("Allow")).isEqualTo("GET, DELETE");

        Response getReschedule = api.get("/v1/jobs/" + ApiTest.UNKNOWN_ID + "/reschedule");
        assertProblem(getReschedule, 405, "GET");
        assertThat(getReschedule.header("Allow")).isEqualTo("POST");

        Response postHealth = api.post("/healthz", "{}");
        assertThat(postHealth.status()).isEqualTo(405);
        assertThat(postHealth.header("Allow")).isEqualTo("GET");
    }

    @ParameterizedTest
    @ValueSource(strings = {"state=BOGUS|state", "limit=0|limit", "limit=1001|limit", "limit=ten|limit",
        "cursor=xyz|cursor", "sort=id|sort", "limit=5&limit=6|limit"})
    void invalidListQuery(String caseText) {
        String[] parts = caseText.split("\\|");
        assertFieldProblem(api.get("/v1/jobs?" + parts[0]), 400, parts[1]);
    }
}
