package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.API_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The isolation matrix: for every job endpoint, tenant B acting on tenant A's job gets the same 404 as for a job
 * that does not exist, and A's job is unchanged; idempotency keys are per tenant; and who may call what: missing,
 * malformed, unknown and revoked keys get 401, a tenant key on the admin API and the admin key on the jobs API 403.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantIsolationTest {
    private static final String JOB = "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\","
            + " \"url\": \"https://example.com/hook\"}, \"payload\": {\"n\": 1}}";

    @TempDir
    static Path dir;
    private ServerFixture api;
    private String keyA;
    private String keyB;

    @BeforeAll
    void start() {
        api = ServerFixture.start(dir);
        keyA = createTenant(api, "tenant-a");
        keyB = createTenant(api, "tenant-b");
    }

    @AfterAll
    void stop() {
        api.close();
    }

    /** Creates a tenant through the admin API and returns its API key. */
    static String createTenant(ServerFixture api, String name) {
        Response r = api.post("/v1/admin/tenants", "{\"name\": \"" + name + "\"}", bearer(ADMIN_KEY));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("apiKey").asText();
    }

    private JsonNode scheduleAs(String key) {
        Response r = api.post("/v1/jobs", JOB, bearer(key));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json();
    }

    @Test
    void anotherTenantsJobIsNotFoundOnEveryEndpointAndStaysUnchanged() {
        JsonNode job = scheduleAs(keyA);
        String id = job.get("id").asText();
        String path = "/v1/jobs/" + id;
        Response unknown = api.get("/v1/jobs/" + ApiTest.UNKNOWN_ID, bearer(keyB));

        List<Response> asB = List.of(
                api.get(path, bearer(keyB)),
                api.delete(path, bearer(keyB)),
                api.post(path + "/reschedule", "{\"delaySeconds\": 1}", bearer(keyB)),
                api.post(path + "/retry", "", bearer(keyB)));
        for (Response r : asB) {
            BadInputTest.assertProblem(r, 404, "no job with id " + id);
            assertThat(r.json().get("type")).isEqualTo(unknown.json().get("type"));
            assertThat(r.json().get("title")).isEqualTo(unknown.json().get("title"));
        }
        Response listB = api.get("/v1/jobs", bearer(keyB));
        assertThat(listB.status()).isEqualTo(200);
        assertThat(listB.json().get("jobs").findValuesAsText("id")).doesNotContain(id);

        Response asA = api.get(path, bearer(keyA));
        assertThat(asA.status()).isEqualTo(200);
        assertThat(asA.json().get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(asA.json().get("dueAt")).isEqualTo(job.get("dueAt"));
        assertThat(api.get("/v1/jobs", bearer(keyA)).json().get("jobs").findValuesAsText("id")).contains(id);
    }

    @Test
    void idempotencyKeysArePerTenant() {
        Response a = api.post("/v1/jobs", JOB, "Authorization", "Bearer " + keyA, "Idempotency-Key", "order-7");
        Response b = api.post("/v1/jobs", JOB, "Authorization", "Bearer " + keyB, "Idempotency-Key", "order-7");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        assertThat(b.status()).as("same key, other tenant: a job of its own").isEqualTo(201);
        assertThat(b.json().get("id")).isNotEqualTo(a.json().get("id"));
        Response again = api.post("/v1/jobs", JOB, "Authorization", "Bearer " + keyB, "Idempotency-Key", "order-7");
        assertThat(again.status()).as("a repeat within the tenant").isEqualTo(200);
        assertThat(again.json().get("id")).isEqualTo(b.json().get("id"));
    }

    @Test
    void requestsWithoutAUsableKeyGet401() {
        String[][] refused = {
            {},
            {"Authorization", "Basic dXNlcjpwYXNz"},
            {"Authorization", "Bearer"},
            {"Authorization", "Bearer two words"},
            {"Authorization", "Bearer hgk_" + "x".repeat(300)},
            {"Authorization", "Bearer hgk_unknown-key-0123456789abcdef"},
        };
        for (String[] headers : refused) {
            Response r = api.get("/v1/jobs", headers.length == 0 ? new String[] {"Authorization", ""} : headers);
            BadInputTest.assertProblem(r, 401, "");
            assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
            assertThat(r.body()).doesNotContain("hgk_unknown").doesNotContain("dXNlcjpwYXNz");
        }
        assertThat(api.post("/v1/jobs", JOB, "Authorization", "Bearer nope-not-a-key-0123456789").status())
                .isEqualTo(401);
        assertThat(api.get("/healthz", "Authorization", "").status()).as("health needs no key").isEqualTo(200);
    }

    @Test
    void aRevokedKeyGets401AndTheTenantsOtherKeysKeepWorking() {
        Response issued = api.post("/v1/admin/tenants/tenant-a/keys", "", bearer(ADMIN_KEY));
        assertThat(issued.status()).as(issued.body()).isEqualTo(201);
        String second = issued.json().get("apiKey").asText();
        String secondId = issued.json().get("id").asText();
        assertThat(api.get("/v1/jobs", bearer(second)).status()).isEqualTo(200);

        Response revoked = api.delete("/v1/admin/tenants/tenant-a/keys/" + secondId, bearer(ADMIN_KEY));
        assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
        assertThat(revoked.json().get("revokedAt").isNull()).isFalse();
        BadInputTest.assertProblem(api.get("/v1/jobs", bearer(second)), 401, "not valid");
        assertThat(api.get("/v1/jobs", bearer(keyA)).status()).isEqualTo(200);
    }

    @Test
    void keysOnTheWrongApiGet403() {
        BadInputTest.assertProblem(api.get("/v1/admin/tenants", bearer(keyA)), 403, "admin API");
        BadInputTest.assertProblem(api.get("/v1/admin/tenants", bearer(API_KEY)), 403, "admin API");
        BadInputTest.assertProblem(api.get("/v1/jobs", bearer(ADMIN_KEY)), 403, "tenant's API key");
        BadInputTest.assertProblem(api.get("/v1/admin/tenants", "Authorization", ""), 401, "API key");
        BadInputTest.assertProblem(api.get("/v1/admin/tenants",
                "Authorization", "Bearer hgk_wrong-admin-key-0123456789"), 401, "not valid");
    }
}
