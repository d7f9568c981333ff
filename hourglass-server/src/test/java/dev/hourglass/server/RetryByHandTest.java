package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.model.JobId;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.server.Receiver.Reply;
import dev.hourglass.server.ServerFixture.Response;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead letters over HTTP, end to end on a real server and a real webhook receiver: a FAILED job retried by hand
 * ({@code POST /v1/jobs/{id}/retry}) is delivered again with its attempt numbers continuing; a bulk retry
 * ({@code POST /v1/jobs/retry}) moves the FAILED jobs its filters select; {@code GET /v1/jobs} filters the dead
 * letters by their last delivery. A job's last delivery ({@code last_outcome}, {@code last_target}) is set in the
 * database by hand where a test filters on it, so that the filters are tested apart from how a delivery records it.
 */
class RetryByHandTest {
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

    private String job(String path, int maxAttempts) {
        return "{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url(path) + "\"},"
                + " \"payload\": {\"n\": 1}, \"maxAttempts\": " + maxAttempts + ", " + FAST_BACKOFF + "}";
    }

    private JsonNode awaitState(String id, String state) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> api.state(id)
                .equals(state));
        return api.get("/v1/jobs/" + id).json();
    }

    /** A job delivered to {@code path} once, answered 500: FAILED with one attempt. */
    private String deadLetter(String path) {
        receiver.on(path, nth -> Reply.status(500));
        String id = api.schedule(job(path, 1)).get("id").asText();
        awaitState(id, "FAILED");
        return id;
    }

    private String origin() {
        return "http://127.0.0.1:" + receiver.url("/").getPort();
    }

    /** Sets a job's last delivery in the store's file, as a recorded attempt leaves it. */
    private void lastDelivery(String id, String outcome, String target) {
        JobId jobId = JobId.parse(id);
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(ServerConfig.STORE_FILE));
                PreparedStatement update = connection.prepareStatement(
                        "UPDATE jobs SET last_outcome = ?, last_target = ? WHERE seq = ? AND id_lo = ?")) {
            connection.createStatement().execute("PRAGMA busy_timeout = 5000");
            update.setString(1, outcome);
            update.setString(2, target);
            update.setLong(3, jobId.hi());
            update.setLong(4, jobId.lo());
            assertThat(update.executeUpdate()).isEqualTo(1);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    /** Who retried the job, as the store recorded it. */
    private String retriedBy(String id) {
        JobId jobId = JobId.parse(id);
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(ServerConfig.STORE_FILE));
                PreparedStatement select = connection.prepareStatement(
                        "SELECT retried_by, retried_at FROM jobs WHERE seq = ? AND id_lo = ?")) {
            select.setLong(1, jobId.hi());
            select.setLong(2, jobId.lo());
            try (ResultSet rs = select.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(2)).as("retried_at").isPositive();
                return rs.getString(1);
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private List<String> listed(String query) {
        Response r = api.get("/v1/jobs?" + query);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        r.json().get("jobs").forEach(j -> ids.add(j.get("id").asText()));
        return ids;
    }

    private static String encoded(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    @Test
    void aRetriedJobIsDeliveredAgainWithItsAttemptNumbersContinuing() {
        receiver.on("/flaky", nth -> Reply.status(nth <= 3 ? 500 : 200));
        String id = api.schedule(job("/flaky", 2)).get("id").asText();
        JsonNode dead = awaitState(id, "FAILED");
        assertThat(dead.get("attempts").asInt()).isEqualTo(2);

        Response retried = api.post("/v1/jobs/" + id + "/retry", "");

        assertThat(retried.status()).as(retried.body()).isEqualTo(200);
        JsonNode job = retried.json();
        assertThat(job.get("id").asText()).isEqualTo(id);
        assertThat(job.get("state").asText()).as("as the retry left it").isEqualTo("SCHEDULED");
        assertThat(job.get("attempts").asInt()).isEqualTo(2);
        assertThat(job.get("maxAttempts").asInt()).isEqualTo(2 + EngineConfig.DEFAULT_MAX_ATTEMPTS);
        assertThat(job.get("lastError").asText()).contains("HTTP 500");
        assertThat(Instant.parse(job.get("dueAt").asText())).isAfterOrEqualTo(Instant.parse(dead.get("updatedAt")
                .asText()));
        JsonNode done = awaitState(id, "SUCCEEDED");

        List<Delivery> deliveries = receiver.deliveries("/flaky");
        assertThat(deliveries).extracting(d -> d.header("Hourglass-Attempt")).containsExactly("1", "2", "3", "4");
        assertThat(deliveries).extracting(d -> d.header("Idempotency-Key"))
                .containsExactly(id + ":1", id + ":2", id + ":3", id + ":4");
        assertThat(done.get("attempts").asInt()).isEqualTo(4);
        assertThat(retriedBy(id)).as("the tenant of the key").isEqualTo("default");
    }

    @Test
    void onlyAFailedJobCanBeRetried() {
        String id = api.schedule("{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", \"url\": \""
                + receiver.url("/later") + "\"}}").get("id").asText();

        Response r = api.post("/v1/jobs/" + id + "/retry", "");

        JsonNode problem = BadInputTest.assertProblem(r, 409, "only a FAILED job can be retried");
        assertThat(problem.get("type").asText()).isEqualTo("urn:hourglass:problem:wrong-state");
        assertThat(problem.get("jobId").asText()).isEqualTo(id);
        assertThat(problem.get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(api.state(id)).isEqualTo("SCHEDULED");
        assertThat(api.get("/v1/jobs/" + id + "/retry").status()).isEqualTo(405);
        assertThat(api.get("/v1/jobs/retry").status()).isEqualTo(405);
    }

    @Test
    void anotherTenantsFailedJobIsNotFoundAndStaysFailed() {
        String id = deadLetter("/gone");
        String otherKey = TenantIsolationTest.createTenant(api, "other");

        BadInputTest.assertProblem(api.post("/v1/jobs/" + id + "/retry", "", bearer(otherKey)), 404,
                "no job with id " + id);
        assertThat(api.post("/v1/jobs/retry", "{}", bearer(otherKey)).json().get("retried").asInt()).isZero();
        BadInputTest.assertProblem(api.post("/v1/jobs/" + ApiTest.UNKNOWN_ID + "/retry", ""), 404,
                "no job with id");
        BadInputTest.assertProblem(api.post("/v1/jobs/retry", "{}", bearer(ADMIN_KEY)), 403, "tenant's API key");

        assertThat(api.state(id)).isEqualTo("FAILED");
        assertThat(receiver.deliveries("/gone")).hasSize(1);
    }

    @Test
    void theDeadLetterListFiltersByTargetOutcomeAndFinishTime() {
        String timedOut = deadLetter("/a");
        String refused = deadLetter("/b");
        Instant between = Instant.now();
        await().pollDelay(Duration.ofMillis(5)).until(() -> true); // finish times a few ms apart at least
        String late = deadLetter("/c");
        lastDelivery(timedOut, "timeout", origin());
        lastDelivery(refused, "refused", origin());
        lastDelivery(late, "timeout", "https://elsewhere.example:443");

        assertThat(listed("state=FAILED")).containsExactly(timedOut, refused, late);
        assertThat(listed("state=FAILED&outcome=timeout")).containsExactly(timedOut, late);
        assertThat(listed("state=FAILED&outcome=TIMEOUT&target=" + encoded(origin()))).containsExactly(timedOut);
        assertThat(listed("state=failed&since=" + encoded(between.toString()))).containsExactly(late);
        assertThat(listed("state=FAILED&target=" + encoded(origin() + "/a"))).as("an origin, exactly").isEmpty();
        assertThat(listed("state=SCHEDULED&outcome=timeout")).isEmpty();

        BadInputTest.assertFieldProblem(api.get("/v1/jobs?state=FAILED&outcome=exploded"), 400, "outcome");
        BadInputTest.assertFieldProblem(api.get("/v1/jobs?since=yesterday"), 400, "since");
        BadInputTest.assertFieldProblem(api.get("/v1/jobs?target=" + encoded("a\u0000b")), 400, "target");
    }

    @Test
    void aBulkRetryMovesTheFailedJobsItsFiltersSelect() {
        receiver.on("/a", nth -> Reply.status(nth == 1 ? 500 : 200));
        String a = api.schedule(job("/a", 1)).get("id").asText();
        awaitState(a, "FAILED");
        receiver.on("/b", nth -> Reply.status(nth == 1 ? 500 : 200));
        String b = api.schedule(job("/b", 1)).get("id").asText();
        awaitState(b, "FAILED");
        String pending = api.schedule("{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", \"url\": \""
                + receiver.url("/later") + "\"}}").get("id").asText();
        lastDelivery(a, "http_error", origin());
        lastDelivery(b, "http_error", "https://elsewhere.example:443");

        BadInputTest.assertFieldProblem(api.post("/v1/jobs/retry", "{\"outcome\": \"boom\"}"), 400, "outcome");
        BadInputTest.assertFieldProblem(api.post("/v1/jobs/retry", "{\"since\": 5}"), 400, "since");
        BadInputTest.assertFieldProblem(api.post("/v1/jobs/retry", "{\"state\": \"FAILED\"}"), 400, "state");
        BadInputTest.assertFieldProblem(api.post("/v1/jobs/retry", "{}", "Content-Type", "text/plain"), 415,
                "Content-Type");
        assertThat(api.state(a)).isEqualTo("FAILED");

        Response first = api.post("/v1/jobs/retry", "{\"target\": \"" + origin() + "\", \"outcome\": \"http_error\"}");
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().get("retried").asInt()).isEqualTo(1);
        awaitState(a, "SUCCEEDED");
        assertThat(api.state(b)).isEqualTo("FAILED");
        assertThat(receiver.deliveries("/a")).extracting(d -> d.header("Hourglass-Attempt"))
                .containsExactly("1", "2");

        Response rest = api.post("/v1/jobs/retry", "{\"since\": \"2000-01-01T00:00:00Z\"}");
        assertThat(rest.json().get("retried").asInt()).isEqualTo(1);
        awaitState(b, "SUCCEEDED");
        assertThat(api.post("/v1/jobs/retry", "{}").json().get("retried").asInt()).as("none left").isZero();
        assertThat(api.state(pending)).isEqualTo("SCHEDULED");
        assertThat(retriedBy(a)).isEqualTo("default");
    }
}
