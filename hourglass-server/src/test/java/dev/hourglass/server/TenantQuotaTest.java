package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each quota, exceeded, gives 429 with Retry-After and a problem naming the quota and its limit, and stores
 * nothing; a quota change applies at once, without a restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantQuotaTest {
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

    private String tenantWith(String name, String quotas) {
        Response r = api.post("/v1/admin/tenants", "{\"name\": \"" + name + "\", \"quotas\": " + quotas + "}",
                bearer(ADMIN_KEY));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("apiKey").asText();
    }

    private static String job(int delaySeconds, String payload) {
        return "{\"delaySeconds\": " + delaySeconds + ", \"target\": {\"type\": \"webhook\","
                + " \"url\": \"https://example.com/hook\"}, \"payload\": " + payload + "}";
    }

    private int jobsOf(String key) {
        Response r = api.get("/v1/jobs?limit=1000", bearer(key));
        assertThat(r.status()).isEqualTo(200);
        return r.json().get("jobs").size();
    }

    /** Asserts a 429 naming {@code quota} and {@code limit}, with a Retry-After of at least a second. */
    private static JsonNode assertOverQuota(Response r, String quota, long limit) {
        JsonNode problem = BadInputTest.assertProblem(r, 429, quota);
        assertThat(problem.get("quota").asText()).isEqualTo(quota);
        assertThat(problem.get("limit").asLong()).isEqualTo(limit);
        assertThat(problem.get("detail").asText()).containsAnyOf("nothing was stored", "the job was not changed");
        assertThat(Long.parseLong(r.header("Retry-After"))).isPositive();
        return problem;
    }

    @Test
    void aPayloadOverTheTenantsLimitIsRefused() {
        String key = tenantWith("small-payloads", "{\"maxPayloadBytes\": 20}");
        assertThat(api.post("/v1/jobs", job(60, "{\"n\": 1}"), bearer(key)).status()).isEqualTo(201);
        assertOverQuota(api.post("/v1/jobs", job(60, "{\"text\": \"" + "x".repeat(40) + "\"}"), bearer(key)),
                "maxPayloadBytes", 20);
        assertThat(jobsOf(key)).isEqualTo(1);
    }

    @Test
    void aJobDueBeyondTheTenantsHorizonIsRefused() {
        String key = tenantWith("short-horizon", "{\"maxDelaySeconds\": 3600}");
        assertThat(api.post("/v1/jobs", job(3000, "{}"), bearer(key)).status()).isEqualTo(201);
        assertOverQuota(api.post("/v1/jobs", job(7200, "{}"), bearer(key)), "maxDelay", 3600);
        assertThat(jobsOf(key)).isEqualTo(1);
    }

    @Test
    void aRescheduleBeyondTheTenantsHorizonIsRefusedAndTheJobUnchanged() {
        String key = tenantWith("short-reschedule", "{\"maxDelaySeconds\": 60}");
        Response created = api.post("/v1/jobs", job(30, "{}"), bearer(key));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("id").asText();
        String dueAt = created.json().get("dueAt").asText();
        String path = "/v1/jobs/" + id + "/reschedule";

        JsonNode problem = assertOverQuota(api.post(path, "{\"delaySeconds\": 259200000}", bearer(key)),
                "maxDelay", 60);
        assertThat(problem.get("detail").asText()).contains("the job was not changed");
        assertOverQuota(api.post(path, "{\"delaySeconds\": 61}", bearer(key)), "maxDelay", 60);
        String inAnHour = Instant.now().plus(Duration.ofHours(1)).toString();
        assertOverQuota(api.post(path, "{\"runAt\": \"" + inAnHour + "\"}", bearer(key)), "maxDelay", 60);
        // Beyond the server's own horizon it is a 400 on the field, as for a schedule.
        BadInputTest.assertFieldProblem(api.post(path, "{\"runAt\": \"2999-01-01T00:00:00Z\"}", bearer(key)), 400,
                "runAt");
        assertThat(api.get("/v1/jobs/" + id, bearer(key)).json().get("dueAt").asText()).isEqualTo(dueAt);

        Response within = api.post(path, "{\"delaySeconds\": 45}", bearer(key));
        assertThat(within.status()).as(within.body()).isEqualTo(200);
        assertThat(within.json().get("dueAt").asText()).isNotEqualTo(dueAt);
    }

    @Test
    void reschedulesSpendTheScheduleRate() {
        String key = tenantWith("slow-writer", "{\"schedulesPerSecond\": 1, \"scheduleBurst\": 1}");
        Response created = api.post("/v1/jobs", job(600, "{}"), bearer(key));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("id").asText();
        String dueAt = created.json().get("dueAt").asText();
        Response tooFast = api.post("/v1/jobs/" + id + "/reschedule", "{\"delaySeconds\": 900}", bearer(key));
        JsonNode problem = BadInputTest.assertProblem(tooFast, 429, "schedulesPerSecond");
        assertThat(problem.get("quota").asText()).isEqualTo("schedulesPerSecond");
        assertThat(api.get("/v1/jobs/" + id, bearer(key)).json().get("dueAt").asText()).isEqualTo(dueAt);
    }

    @Test
    void pendingJobsOverTheLimitAreRefusedAndARaisedLimitAppliesAtOnce() {
        String key = tenantWith("few-pending", "{\"maxPendingJobs\": 2}");
        assertThat(api.post("/v1/jobs", job(600, "{}"), bearer(key)).status()).isEqualTo(201);
        assertThat(api.post("/v1/jobs", job(600, "{}"), bearer(key)).status()).isEqualTo(201);
        assertOverQuota(api.post("/v1/jobs", job(600, "{}"), bearer(key)), "maxPendingJobs", 2);
        assertThat(jobsOf(key)).isEqualTo(2);

        Response patched = api.patch("/v1/admin/tenants/few-pending", "{\"quotas\": {\"maxPendingJobs\": 3}}",
                bearer(ADMIN_KEY));
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        assertThat(patched.json().get("quotas").get("maxPendingJobs").asLong()).isEqualTo(3);
        assertThat(api.post("/v1/jobs", job(600, "{}"), bearer(key)).status()).as("no restart needed")
                .isEqualTo(201);
        assertOverQuota(api.post("/v1/jobs", job(600, "{}"), bearer(key)), "maxPendingJobs", 3);
        assertThat(jobsOf(key)).isEqualTo(3);
    }

    @Test
    void schedulesFasterThanTheRateAreRefusedOnceTheBurstIsSpent() {
        String key = tenantWith("slow-rate", "{\"schedulesPerSecond\": 1, \"scheduleBurst\": 3}");
        for (int i = 0; i < 3; i++) {
            assertThat(api.post("/v1/jobs", job(600, "{}"), bearer(key)).status()).as("burst %d", i).isEqualTo(201);
        }
        Response refused = api.post("/v1/jobs", job(600, "{}"), bearer(key));
        assertOverQuota(refused, "schedulesPerSecond", 1);
        assertThat(refused.header("Retry-After")).isEqualTo("1");
        assertThat(jobsOf(key)).isEqualTo(3);
    }

    @Test
    void oneTenantOverItsQuotaDoesNotAffectAnother() {
        String tight = tenantWith("tight", "{\"maxPendingJobs\": 1}");
        String other = tenantWith("roomy", "{}");
        assertThat(api.post("/v1/jobs", job(600, "{}"), bearer(tight)).status()).isEqualTo(201);
        assertOverQuota(api.post("/v1/jobs", job(600, "{}"), bearer(tight)), "maxPendingJobs", 1);
        for (int i = 0; i < 5; i++) {
            assertThat(api.post("/v1/jobs", job(600, "{}"), bearer(other)).status()).isEqualTo(201);
        }
    }
}
