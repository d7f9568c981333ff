package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.monitor.AlarmPolicy;
import dev.hourglass.server.ServerFixture.Response;
import dev.hourglass.tenancy.TargetSettings;
import dev.hourglass.tenancy.TenantDirectory;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API's {@code targets} of a tenant: set on create, read back with every field, changed field by field,
 * refused field by field; the server's settings for the default tenant; and what the directory hands the monitor.
 */
class TenantTargetSettingsTest {
    private static final String OPS = "https://ops.example.com/hourglass";

    @TempDir
    Path dir;

    @Test
    void targetsAreSetOnCreateAnsweredWithEveryFieldAndPatchedFieldByField() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            Response created = api.post("/v1/admin/tenants", "{\"name\": \"acme\", \"targets\": {\"raiseAt\": 0.8, "
                    + "\"autoPause\": true, \"operationsWebhook\": \"" + OPS + "\"}}", bearer(ADMIN_KEY));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            assertTargets(created.json().get("targets"), 0.8, 0.2, 10, 20, true, 1800, OPS);

            JsonNode shown = api.get("/v1/admin/tenants/acme", bearer(ADMIN_KEY)).json();
            assertTargets(shown.get("targets"), 0.8, 0.2, 10, 20, true, 1800, OPS);
            TenantDirectory tenants = api.server().tenants();
            assertThat(tenants.targetPolicy("acme").alarm())
                    .isEqualTo(new AlarmPolicy(0.8, 0.2, 10, 20, 2, 3));
            assertThat(tenants.targetPolicy("acme").autoPause()).isTrue();
            assertThat(tenants.targetPolicy("acme").pauseAfter()).isEqualTo(Duration.ofMinutes(30));
            assertThat(tenants.operationsWebhook("acme")).contains(URI.create(OPS));

            Response patched = api.patch("/v1/admin/tenants/acme", "{\"targets\": {\"clearAt\": 0.35, "
                    + "\"minAttempts\": 4, \"consecutiveFailures\": 3, \"autoPauseAfterSeconds\": 60, "
                    + "\"operationsWebhook\": null}}", bearer(ADMIN_KEY));
            assertThat(patched.status()).as(patched.body()).isEqualTo(200);
            assertTargets(patched.json().get("targets"), 0.8, 0.35, 4, 3, true, 60, null);
            assertThat(tenants.targetPolicy("acme").pauseAfter()).as("applied at once")
                    .isEqualTo(Duration.ofMinutes(1));
            assertThat(tenants.operationsWebhook("acme")).isEmpty();

            Response quotasOnly = api.patch("/v1/admin/tenants/acme", "{\"weight\": 2}", bearer(ADMIN_KEY));
            assertTargets(quotasOnly.json().get("targets"), 0.8, 0.35, 4, 3, true, 60, null);
            JsonNode listed = api.get("/v1/admin/tenants", bearer(ADMIN_KEY)).json().get("tenants");
            assertThat(listed.findValues("targets")).as("every tenant of the list has its targets").hasSize(2);
        }
    }

    @Test
    void aTenantCreatedWithoutTargetsHasTheDefaults() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            Response created = api.post("/v1/admin/tenants", "{\"name\": \"plain\"}", bearer(ADMIN_KEY));
            assertTargets(created.json().get("targets"), 0.5, 0.2, 10, 20, false, 1800, null);
            assertThat(api.server().tenants().targetSettings("plain")).isEqualTo(TargetSettings.DEFAULTS);
        }
    }

    @Test
    void badTargetsAreRefusedNamingEachFieldAndChangeNothing() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            JsonNode p = BadInputTest.assertFieldProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", "
                    + "\"targets\": {\"raiseAt\": 0, \"clearAt\": \"low\", \"minAttempts\": 0, "
                    + "\"consecutiveFailures\": 1.5, \"autoPause\": \"yes\", \"autoPauseAfterSeconds\": 59, "
                    + "\"operationsWebhook\": \"ftp://ops.example.com/\", \"color\": 1}}", bearer(ADMIN_KEY)), 400,
                    "targets.raiseAt");
            assertThat(fields(p)).containsExactlyInAnyOrder("targets.color", "targets.raiseAt", "targets.clearAt",
                    "targets.minAttempts", "targets.consecutiveFailures", "targets.autoPause",
                    "targets.autoPauseAfterSeconds", "targets.operationsWebhook");
            BadInputTest.assertFieldProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", \"targets\": [1]}",
                    bearer(ADMIN_KEY)), 400, "targets");
            BadInputTest.assertFieldProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", \"targets\": "
                    + "{\"raiseAt\": 1.5}}", bearer(ADMIN_KEY)), 400, "targets.raiseAt");
            BadInputTest.assertFieldProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", \"targets\": "
                    + "{\"raiseAt\": 1e-999999999}}", bearer(ADMIN_KEY)), 400, "targets.raiseAt");
            BadInputTest.assertFieldProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", \"targets\": "
                    + "{\"operationsWebhook\": 7}}", bearer(ADMIN_KEY)), 400, "targets.operationsWebhook");
            assertThat(api.get("/v1/admin/tenants/x", bearer(ADMIN_KEY)).status()).as("not created").isEqualTo(404);

            assertThat(api.post("/v1/admin/tenants", "{\"name\": \"x\"}", bearer(ADMIN_KEY)).status()).isEqualTo(201);
            // Together: a clearAt at or above the raiseAt (given or kept) leaves no gap for hysteresis.
            JsonNode gap = BadInputTest.assertFieldProblem(api.patch("/v1/admin/tenants/x", "{\"targets\": "
                    + "{\"raiseAt\": 0.3, \"clearAt\": 0.3}}", bearer(ADMIN_KEY)), 400, "targets.clearAt");
            assertThat(gap.get("detail").asText()).contains("below raiseAt");
            BadInputTest.assertFieldProblem(api.patch("/v1/admin/tenants/x", "{\"targets\": {\"raiseAt\": 0.1}}",
                    bearer(ADMIN_KEY)), 400, "targets.clearAt");
            // The operations webhook passes the guard of a job's target.url (loopback is allowlisted here).
            for (String blocked : List.of("http://169.254.169.254/latest/meta-data", "https://10.1.2.3/ops")) {
                JsonNode refused = BadInputTest.assertFieldProblem(api.patch("/v1/admin/tenants/x",
                        "{\"targets\": {\"operationsWebhook\": \"" + blocked + "\"}}", bearer(ADMIN_KEY)), 400,
                        "targets.operationsWebhook");
                assertThat(refused.get("detail").asText()).as(blocked).contains("must not reach a")
                        .contains("--webhook-allowlist");
            }
            BadInputTest.assertProblem(api.patch("/v1/admin/tenants/default", "{\"targets\": {\"autoPause\": true}}",
                    bearer(ADMIN_KEY)), 409, "--target-auto-pause");

            assertTargets(api.get("/v1/admin/tenants/x", bearer(ADMIN_KEY)).json().get("targets"), 0.5, 0.2, 10, 20,
                    false, 1800, null);
            assertThat(api.server().tenants().targetSettings("default")).isEqualTo(TargetSettings.DEFAULTS);
        }
    }

    @Test
    void theServersSettingsWatchTheDefaultTenantAndTenantsWithoutARowAndShowInItsRow() {
        TargetSettings server = TargetSettings.DEFAULTS.withAutoPause(true, 300)
                .withOperationsWebhook(URI.create(OPS));
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir).withTargets(server))) {
            TenantDirectory tenants = api.server().tenants();
            assertThat(tenants.targetSettings(TenantDirectory.DEFAULT_TENANT)).isEqualTo(server);
            assertThat(tenants.targetPolicy(TenantDirectory.DEFAULT_TENANT)).isEqualTo(server.policy());
            assertThat(tenants.operationsWebhook("no-such-tenant")).as("a tenant without a row")
                    .contains(URI.create(OPS));
            assertTargets(api.get("/v1/admin/tenants/default", bearer(ADMIN_KEY)).json().get("targets"), 0.5, 0.2,
                    10, 20, true, 300, OPS);
        }
        // The next start with other settings writes them into the default tenant's row.
        try (ServerFixture api = ServerFixture.start(dir)) {
            assertTargets(api.get("/v1/admin/tenants/default", bearer(ADMIN_KEY)).json().get("targets"), 0.5, 0.2,
                    10, 20, false, 1800, null);
            assertThat(api.server().tenants().operationsWebhook(TenantDirectory.DEFAULT_TENANT)).isEmpty();
        }
    }

    @Test
    void anOperationsWebhookToABlockedAddressStopsTheStart() {
        ServerConfig config = ServerFixture.config(dir).withTargets(TargetSettings.DEFAULTS
                .withOperationsWebhook(URI.create("http://10.1.2.3/ops")));
        assertThatThrownBy(() -> ServerFixture.start(config).close()).isInstanceOf(StartupException.class)
                .hasMessageStartingWith("operations-webhook must not reach a");
    }

    private static void assertTargets(JsonNode targets, double raiseAt, double clearAt, long minAttempts,
            int consecutiveFailures, boolean autoPause, long autoPauseAfterSeconds, String operationsWebhook) {
        assertThat(targets).as("targets").isNotNull();
        assertThat(targets.get("raiseAt").asDouble()).isEqualTo(raiseAt);
        assertThat(targets.get("clearAt").asDouble()).isEqualTo(clearAt);
        assertThat(targets.get("minAttempts").asLong()).isEqualTo(minAttempts);
        assertThat(targets.get("consecutiveFailures").asInt()).isEqualTo(consecutiveFailures);
        assertThat(targets.get("autoPause").asBoolean()).isEqualTo(autoPause);
        assertThat(targets.get("autoPauseAfterSeconds").asLong()).isEqualTo(autoPauseAfterSeconds);
        if (operationsWebhook == null) {
            assertThat(targets.get("operationsWebhook").isNull()).as("operationsWebhook is null").isTrue();
        } else {
            assertThat(targets.get("operationsWebhook").asText()).isEqualTo(operationsWebhook);
        }
    }

    private static List<String> fields(JsonNode problem) {
        List<String> fields = new ArrayList<>();
        problem.get("errors").forEach(e -> fields.add(e.get("field").asText()));
        return fields;
    }
}
