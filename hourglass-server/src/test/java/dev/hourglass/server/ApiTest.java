package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API's happy paths and its answers to races and repeats, on a real server and a real SQLite file. */
class ApiTest {
    /** A well-formed UUIDv7 that no test creates. */
    static final String UNKNOWN_ID = "01890a5d-ac96-774b-bcce-b302099a8057";
    private static final String TIMESTAMP = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z";

    @TempDir
    Path dir;

    private ServerFixture api;
    private Receiver receiver;

    @BeforeEach
    void start() {
        api = ServerFixture.start(dir);
        receiver = new Receiver();
    }

    @AfterEach
    void stop() {
        api.close();
        receiver.close();
    }

    private String job(String when) {
        return "{" + when + ", \"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url("/hook") + "\"},"
                + " \"payload\": {\"order\": 42}}";
    }

    @Test
    void scheduleAnswers201WithEveryFieldAndALocation() {
        String body = "{\"delaySeconds\": 3600,"
                + " \"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url("/hook") + "\","
                + "              \"headers\": {\"Authorization\": \"Bearer abc\"}},"
                + " \"payload\": {\"order\": 42, \"items\": [1, 2.50, \"x\"], \"note\": null},"
                + " \"maxAttempts\": 7, \"timeoutSeconds\": 12,"
                + " \"backoff\": {\"initialSeconds\": 0.5, \"maxSeconds\": 60}}";

        Response r = api.post("/v1/jobs", body);

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.contentType()).startsWith("application/json");
        JsonNode job = r.json();
        String id = job.get("id").asText();
        assertThat(UUID.fromString(id).version()).isEqualTo(7);
        assertThat(r.header("Location")).isEqualTo("/v1/jobs/" + id);
        assertThat(job.get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(job.get("dueAt").asText()).matches(TIMESTAMP);
        assertThat(job.get("createdAt").asText()).matches(TIMESTAMP);
        assertThat(job.get("updatedAt").asText()).matches(TIMESTAMP);
        assertThat(Duration.between(Instant.parse(job.get("createdAt").asText()),
                Instant.parse(job.get("dueAt").asText()))).isEqualTo(Duration.ofHours(1));
        assertThat(job.get("attempts").asInt()).isZero();
        assertThat(job.get("maxAttempts").asInt()).isEqualTo(7);
        assertThat(job.get("target")).isEqualTo(ServerFixture.JSON.createObjectNode()
                .put("type", "webhook").put("url", receiver.url("/hook").toString())
                .set("headers", ServerFixture.JSON.createObjectNode().put("Authorization", "Bearer abc")));
        // The payload comes back as sent, compact, every digit kept (read as text: a test mapper would use doubles).
        assertThat(r.body()).contains("\"payload\":{\"order\":42,\"items\":[1,2.50,\"x\"],\"note\":null}");
        assertThat(job.has("lastError")).isFalse();
        assertThat(job.fieldNames()).toIterable().containsExactly("id", "state", "dueAt", "createdAt", "updatedAt",
                "attempts", "maxAttempts", "target", "payload");
    }

    @Test
    void runAtIsAcceptedAsRfc3339WithAnyOffsetOrAsEpochMillis() {
        JsonNode withOffset = api.schedule(job("\"runAt\": \"2031-01-01T12:00:00.123+02:00\""));
        assertThat(withOffset.get("dueAt").asText()).isEqualTo("2031-01-01T10:00:00.123Z");

        JsonNode noFraction = api.schedule(job("\"runAt\": \"2031-01-01T12:00:00Z\""));
        assertThat(noFraction.get("dueAt").asText()).isEqualTo("2031-01-01T12:00:00.000Z");

        // Finer than a millisecond rounds up: never early.
        JsonNode micros = api.schedule(job("\"runAt\": \"2031-01-01T12:00:00.000001Z\""));
        assertThat(micros.get("dueAt").asText()).isEqualTo("2031-01-01T12:00:00.001Z");

        long epochMillis = Instant.parse("2031-06-01T00:00:00.007Z").toEpochMilli();
        JsonNode epoch = api.schedule(job("\"runAt\": " + epochMillis));
        assertThat(epoch.get("dueAt").asText()).isEqualTo("2031-06-01T00:00:00.007Z");
    }

    @Test
    void contentTypeWithUtf8CharsetIsAccepted() {
        Response r = api.post("/v1/jobs", job("\"delaySeconds\": 60"), "Content-Type",
                "application/json; charset=UTF-8");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
    }

    @Test
    void getReturnsTheJobAndUnknownIdsAre404() {
        JsonNode created = api.schedule(job("\"delaySeconds\": 60"));
        String id = created.get("id").asText();

        Response r = api.get("/v1/jobs/" + id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(created);

        Response unknown = api.get("/v1/jobs/" + UNKNOWN_ID);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.contentType()).isEqualTo("application/problem+json");
    }

    @Test
    void listFiltersByStateAndPagesWithTheCursor() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            ids.add(api.schedule(job("\"delaySeconds\": " + (3600 + i))).get("id").asText());
        }
        assertThat(api.delete("/v1/jobs/" + ids.get(1)).status()).isEqualTo(200);
        assertThat(api.delete("/v1/jobs/" + ids.get(4)).status()).isEqualTo(200);

        List<String> scheduled = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Response page = api.get("/v1/jobs?state=SCHEDULED&limit=2" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(page.status()).as(page.body()).isEqualTo(200);
            assertThat(page.json().get("jobs").size()).isLessThanOrEqualTo(2);
            page.json().get("jobs").forEach(j -> {
                assertThat(j.get("state").asText()).isEqualTo("SCHEDULED");
                scheduled.add(j.get("id").asText());
            });
            JsonNode next = page.json().get("nextCursor");
            assertThat(next).isNotNull();
            cursor = next.isNull() ? null : next.asText();
            pages++;
        } while (cursor != null && pages < 10);
        assertThat(scheduled).containsExactly(ids.get(0), ids.get(2), ids.get(3), ids.get(5), ids.get(6));

        Response cancelled = api.get("/v1/jobs?state=cancelled");
        assertThat(cancelled.json().get("jobs")).extracting(j -> j.get("id").asText())
                .containsExactly(ids.get(1), ids.get(4));
        assertThat(cancelled.json().get("nextCursor").isNull()).isTrue();

        Response all = api.get("/v1/jobs");
        assertThat(all.json().get("jobs")).hasSize(7);
    }

    @Test
    void cancelAnswers200ThenConflictAndUnknownIs404() {
        String id = api.schedule(job("\"delaySeconds\": 60")).get("id").asText();

        Response first = api.delete("/v1/jobs/" + id);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().get("state").asText()).isEqualTo("CANCELLED");

        Response again = api.delete("/v1/jobs/" + id);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.contentType()).isEqualTo("application/problem+json");
        assertThat(again.json().get("detail").asText()).contains("CANCELLED");
        assertThat(again.json().get("state").asText()).isEqualTo("CANCELLED");

        Response unknown = api.delete("/v1/jobs/" + UNKNOWN_ID);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(api.state(id)).isEqualTo("CANCELLED");
    }

    @Test
    void cancellingAFinishedJobIsAConflictNamingItsState() {
        String id = api.schedule(job("\"delaySeconds\": 0")).get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("SUCCEEDED"));

        Response r = api.delete("/v1/jobs/" + id);

        assertThat(r.status()).isEqualTo(409);
        assertThat(r.json().get("detail").asText()).contains("SUCCEEDED");
        assertThat(receiver.deliveries("/hook")).hasSize(1);
    }

    @Test
    void rescheduleMovesTheDueTimeAndRefusesACancelledJob() {
        String id = api.schedule(job("\"delaySeconds\": 3600")).get("id").asText();

        Response moved = api.post("/v1/jobs/" + id + "/reschedule", "{\"runAt\": \"2031-03-04T05:06:07.089Z\"}");
        assertThat(moved.status()).as(moved.body()).isEqualTo(200);
        assertThat(moved.json().get("dueAt").asText()).isEqualTo("2031-03-04T05:06:07.089Z");
        assertThat(moved.json().get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(api.get("/v1/jobs/" + id).json().get("dueAt").asText()).isEqualTo("2031-03-04T05:06:07.089Z");

        Response byDelay = api.post("/v1/jobs/" + id + "/reschedule", "{\"delaySeconds\": 120}");
        assertThat(byDelay.status()).isEqualTo(200);
        Instant due = Instant.parse(byDelay.json().get("dueAt").asText());
        assertThat(Duration.between(Instant.parse(byDelay.json().get("updatedAt").asText()), due))
                .isEqualTo(Duration.ofSeconds(120));

        api.delete("/v1/jobs/" + id);
        Response cancelled = api.post("/v1/jobs/" + id + "/reschedule", "{\"delaySeconds\": 5}");
        assertThat(cancelled.status()).isEqualTo(409);
        assertThat(cancelled.json().get("detail").asText()).contains("CANCELLED");

        Response unknown = api.post("/v1/jobs/" + UNKNOWN_ID
                + "/reschedule", "{\"delaySeconds\": 5}");
        assertThat(unknown.status()).isEqualTo(404);
    }

    @Test
    void sameIdempotencyKeyAndSameBodyGivesTheSameJobWhateverTheFormatting() {
        String url = receiver.url("/hook").toString();
        String body = "{\"delaySeconds\": 600, \"target\": {\"type\": \"webhook\", \"url\": \"" + url + "\"},"
                + " \"payload\": {\"a\": 1, \"b\": [true, {\"c\": \"d\", \"e\": 2}]}}";
        String reordered = "{\n  \"payload\":{\"b\":[true,{\"e\":2,\"c\":\"d\"}],\"a\":1},\n"
                + "  \"target\":{\"url\":\"" + url + "\",\"type\":\"webhook\"},\"delaySeconds\":600\n}";

        Response first = api.post("/v1/jobs", body, "Idempotency-Key", "order-42");
        Response repeat = api.post("/v1/jobs", reordered, "Idempotency-Key", "order-42");

        assertThat(first.status()).isEqualTo(201);
        assertThat(repeat.status()).as(repeat.body()).isEqualTo(200);
        assertThat(repeat.json().get("id")).isEqualTo(first.json().get("id"));
        assertThat(repeat.header("Location")).isEqualTo(first.header("Location"));

        Response different = api.post("/v1/jobs", body.replace("600", "601"), "Idempotency-Key", "order-42");
        assertThat(different.status()).isEqualTo(409);
        assertThat(different.contentType()).isEqualTo("application/problem+json");
        assertThat(different.json().get("detail").asText()).contains("Idempotency-Key");
        assertThat(different.json().get("jobId")).isEqualTo(first.json().get("id"));

        Response otherKey = api.post("/v1/jobs", body, "Idempotency-Key", "order-43");
        assertThat(otherKey.status()).isEqualTo(201);
        assertThat(api.allJobs()).hasSize(2);
    }

    @Test
    void anInvalidRescheduleLeavesTheJobAsItWas() {
        JsonNode job = api.schedule(job("\"delaySeconds\": 600"));
        String path = "/v1/jobs/" + job.get("id").asText() + "/reschedule";

        BadInputTest.assertFieldProblem(api.post(path, "{\"delaySeconds\": -5}"), 400, "delaySeconds");
        BadInputTest.assertFieldProblem(api.post(path, "{\"runAt\": \"soon\"}"), 400, "runAt");
        BadInputTest.assertFieldProblem(api.post(path, "{}"), 400, "delaySeconds");
        BadInputTest.assertFieldProblem(api.post(path, "{\"delaySeconds\": 5, \"runAt\": 1}"), 400, "delaySeconds");
        BadInputTest.assertFieldProblem(api.post(path, "{\"delaySeconds\": 5, \"x\": 1}"), 400, "x");
        BadInputTest.assertFieldProblem(api.post(path, "{\"delaySeconds\": 999999999}"), 400, "delaySeconds");
        BadInputTest.assertFieldProblem(api.post(path, "{\"delaySeconds\": 5}", "Content-Type", "text/plain"), 415,
                "Content-Type");

        assertThat(api.get("/v1/jobs/" + job.get("id").asText()).json()).isEqualTo(job);
    }

    @Test
    void healthz() {
        Response r = api.get("/healthz");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(ServerFixture.JSON.createObjectNode().put("status", "ok"));
    }

    @Test
    void aJobScheduledBeforeARestartIsThereAfterIt() {
        String id = api.schedule(job("\"delaySeconds\": 3600")).get("id").asText();
        api.close();
        api = ServerFixture.start(dir);
        assertThat(api.state(id)).isEqualTo("SCHEDULED");
    }
}
