package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.server.Receiver.Reply;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhook delivery end to end: API -> engine -> JDK HttpClient -> a real receiver. */
class WebhookDeliveryTest {
    private static final String FAST_BACKOFF = "\"backoff\": {\"initialSeconds\": 0.05, \"maxSeconds\": 0.1}";

    @TempDir
    Path dir;

    private ServerFixture api;
    private Receiver receiver;

    @BeforeEach
    void start() {
        receiver = new Receiver();
        api = ServerFixture.start(dir);
    }

    @AfterEach
    void stop() {
        receiver.close();
        api.close();
    }

    private String job(String path, String extra) {
        return "{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url(path) + "\","
                + " \"headers\": {\"Authorization\": \"Bearer s3cret\", \"X-Tenant-Ref\": \"acme\"}},"
                + " \"payload\": {\"orderId\": 42, \"amount\": 19.90, \"tags\": [\"a\", \"b\"]}"
                + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    private JsonNode awaitState(String id, String state, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(20)).until(() -> api.state(id).equals(state));
        return api.get("/v1/jobs/" + id).json();
    }

    @Test
    void deliversThePayloadWithEveryHeader() {
        JsonNode job = api.schedule(job("/hook", ""));
        String id = job.get("id").asText();

        JsonNode done = awaitState(id, "SUCCEEDED", Duration.ofSeconds(10));

        List<Delivery> deliveries = receiver.deliveries("/hook");
        assertThat(deliveries).hasSize(1);
        Delivery d = deliveries.getFirst();
        assertThat(d.body()).isEqualTo("{\"orderId\":42,\"amount\":19.90,\"tags\":[\"a\",\"b\"]}");
        assertThat(d.header("Content-Type")).isEqualTo("application/json");
        assertThat(d.header("User-Agent")).isEqualTo("Hourglass/0.1");
        assertThat(d.header("Hourglass-Job-Id")).isEqualTo(id);
        assertThat(d.header("Hourglass-Attempt")).isEqualTo("1");
        assertThat(d.header("Hourglass-Due-At")).isEqualTo(job.get("dueAt").asText());
        assertThat(d.header("Idempotency-Key")).isEqualTo(id + ":1");
        assertThat(d.header("Authorization")).isEqualTo("Bearer s3cret");
        assertThat(d.header("X-Tenant-Ref")).isEqualTo("acme");
        assertThat(d.arrivedMillis()).isGreaterThanOrEqualTo(Instant.parse(job.get("dueAt").asText()).toEpochMilli());
        assertThat(done.get("attempts").asInt()).isEqualTo(1);
        assertThat(done.has("lastError")).isFalse();
    }

    @Test
    void retriesAfterServerErrorsUntilItSucceeds() {
        receiver.on("/flaky", nth -> Reply.status(nth <= 2 ? 500 : 200));
        String id = api.schedule(job("/flaky", FAST_BACKOFF)).get("id").asText();

        JsonNode done = awaitState(id, "SUCCEEDED", Duration.ofSeconds(10));

        List<Delivery> deliveries = receiver.deliveries("/flaky");
        assertThat(deliveries).hasSize(3);
        assertThat(deliveries).extracting(d -> d.header("Hourglass-Attempt")).containsExactly("1", "2", "3");
        assertThat(deliveries).extracting(d -> d.header("Idempotency-Key"))
                .containsExactly(id + ":1", id + ":2", id + ":3");
        assertThat(done.get("attempts").asInt()).isEqualTo(3);
    }

    @Test
    void givesUpAfterMaxAttemptsWithTheLastError() {
        receiver.on("/down", nth -> Reply.status(500));
        String id = api.schedule(job("/down", "\"maxAttempts\": 3, " + FAST_BACKOFF)).get("id").asText();

        JsonNode failed = awaitState(id, "FAILED", Duration.ofSeconds(10));

        assertThat(failed.get("attempts").asInt()).isEqualTo(3);
        assertThat(failed.get("lastError").asText()).contains("HTTP 500");
        // No fourth delivery turns up later.
        await().pollDelay(Duration.ofMillis(300)).until(() -> true);
        assertThat(receiver.deliveries("/down")).hasSize(3);
    }

    @Test
    void honoursRetryAfterSeconds() {
        receiver.on("/busy", nth -> nth == 1 ? new Reply(503, Map.of("Retry-After", "1"), false) : Reply.status(204));
        String id = api.schedule(job("/busy", FAST_BACKOFF)).get("id").asText();

        awaitState(id, "SUCCEEDED", Duration.ofSeconds(10));

        List<Delivery> deliveries = receiver.deliveries("/busy");
        assertThat(deliveries).hasSize(2);
        long gap = deliveries.get(1).arrivedMillis() - deliveries.get(0).arrivedMillis();
        assertThat(gap).as("retry waited for Retry-After, not the 50 ms backoff").isGreaterThanOrEqualTo(1_000);
    }

    @Test
    void a2xxIsSuccessAtOnceThoughItsBodyNeverEnds() {
        receiver.on("/endless", nth -> Reply.endless(200));
        String id = api.schedule(job("/endless", "\"maxAttempts\": 1")).get("id").asText();

        JsonNode done = awaitState(id, "SUCCEEDED", Duration.ofSeconds(5));

        assertThat(done.get("attempts").asInt()).isEqualTo(1);
        assertThat(receiver.bodyBytesSent()).as("the body was not read to an end").isLessThan(64L << 20);
    }

    @Test
    void a2xxIsSuccessAtOnceThoughItsBodyTrickles() {
        receiver.on("/trickle", nth -> Reply.trickling(200, 1_000, Duration.ofMillis(100)));
        String id = api.schedule(job("/trickle", "\"timeoutSeconds\": 3, \"maxAttempts\": 1")).get("id").asText();

        JsonNode done = awaitState(id, "SUCCEEDED", Duration.ofSeconds(2));

        assertThat(done.get("attempts").asInt()).isEqualTo(1);
        assertThat(done.has("lastError")).isFalse();
    }

    @Test
    void aFailureRecordsAtMost4KiBOfAnEndlessBody() {
        receiver.on("/endless-error", nth -> Reply.endless(500));
        String id = api.schedule(job("/endless-error", "\"maxAttempts\": 1")).get("id").asText();

        JsonNode failed = awaitState(id, "FAILED", Duration.ofSeconds(5));

        String lastError = failed.get("lastError").asText();
        assertThat(lastError).startsWith("HTTP 500: xxxx").endsWith(" (attempt 1 of 1)");
        assertThat(lastError.length() - "HTTP 500: ".length() - " (attempt 1 of 1)".length()).isEqualTo(4096);
        assertThat(receiver.bodyBytesSent()).as("the body was not read to an end").isLessThan(64L << 20);
    }

    @Test
    void aFailureWhoseBodyTricklesIsRecordedWithWhatArrivedWithinTheWait() {
        receiver.on("/trickle-error", nth -> Reply.trickling(503, 1_000, Duration.ofMillis(100)));
        String id = api.schedule(job("/trickle-error", "\"timeoutSeconds\": 10, \"maxAttempts\": 1"))
                .get("id").asText();

        JsonNode failed = awaitState(id, "FAILED", Duration.ofSeconds(4));

        assertThat(failed.get("lastError").asText()).matches("HTTP 503: y+ \\(attempt 1 of 1\\)");
    }

    @Test
    void aSmallAnswerKeepsItsConnectionForTheNextDelivery() {
        String first = api.schedule(job("/small", "")).get("id").asText();
        awaitState(first, "SUCCEEDED", Duration.ofSeconds(5));
        String second = api.schedule(job("/small", "")).get("id").asText();
        awaitState(second, "SUCCEEDED", Duration.ofSeconds(5));

        List<Delivery> deliveries = receiver.deliveries("/small");
        assertThat(deliveries.get(1).clientPort()).as("the same keep-alive connection")
                .isEqualTo(deliveries.get(0).clientPort());
    }

    @Test
    void retryAfterZeroDoesNotShortenTheBackoff() {
        receiver.on("/zero", nth -> nth < 3 ? new Reply(503, Map.of("Retry-After", "0"), false) : Reply.status(204));
        String id = api.schedule(job("/zero", "\"backoff\": {\"initialSeconds\": 0.4, \"maxSeconds\": 0.4}"))
                .get("id").asText();

        awaitState(id, "SUCCEEDED", Duration.ofSeconds(10));

        List<Delivery> deliveries = receiver.deliveries("/zero");
        assertThat(deliveries).hasSize(3);
        for (int i = 1; i < deliveries.size(); i++) {
            long gap = deliveries.get(i).arrivedMillis() - deliveries.get(i - 1).arrivedMillis();
            assertThat(gap).as("no sooner than half the 400 ms backoff").isGreaterThanOrEqualTo(200);
        }
    }

    @Test
    void aRefusedConnectionIsRetriedWithAClearReason() throws Exception {
        int closedPort;
        try (var socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String body = "{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:"
                + closedPort + "/x\"}, \"maxAttempts\": 2, " + FAST_BACKOFF + "}";
        String id = api.schedule(body).get("id").asText();

        JsonNode failed = awaitState(id, "FAILED", Duration.ofSeconds(10));

        assertThat(failed.get("attempts").asInt()).isEqualTo(2);
        assertThat(failed.get("lastError").asText()).contains("connection refused");
    }

    @Test
    void aHangingReceiverIsCutOffAndDoesNotDelayOtherJobs() {
        receiver.on("/hang", nth -> Reply.hanging());
        String hanging = api.schedule(job("/hang", "\"timeoutSeconds\": 1, \"maxAttempts\": 2, " + FAST_BACKOFF))
                .get("id").asText();
        await().atMost(Duration.ofSeconds(5)).until(() -> receiver.deliveries("/hang").size() == 1);

        // While the first attempt hangs, another job is delivered at once.
        long before = System.currentTimeMillis();
        String healthy = api.schedule(job("/ok", "")).get("id").asText();
        awaitState(healthy, "SUCCEEDED", Duration.ofSeconds(5));
        long took = System.currentTimeMillis() - before;
        assertThat(api.state(hanging)).isIn("RUNNING", "SCHEDULED");
        assertThat(took).as("healthy job delivered while the other hangs").isLessThan(900);

        JsonNode failed = awaitState(hanging, "FAILED", Duration.ofSeconds(10));
        assertThat(failed.get("attempts").asInt()).isEqualTo(2);
        assertThat(failed.get("lastError").asText()).contains("timed out after 1000 ms");
        assertThat(receiver.deliveries("/hang")).hasSize(2);
        System.out.printf("hanging receiver: healthy job delivered in %d ms while the other hung%n", took);
    }
}
