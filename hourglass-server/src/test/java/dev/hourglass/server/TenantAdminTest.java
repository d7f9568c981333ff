package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.server.ServerFixture.Response;
import dev.hourglass.webhook.signing.SigningSecret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin API: tenants, keys, quotas and webhook secrets; and what survives a restart. */
class TenantAdminTest {
    @TempDir
    Path dir;

    @Test
    void createShowListAndPatchATenant() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            Response created = api.post("/v1/admin/tenants", "{\"name\": \"acme\", \"weight\": 3, "
                    + "\"quotas\": {\"maxPendingJobs\": 1000, \"schedulesPerSecond\": 50}}", bearer(ADMIN_KEY));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            JsonNode c = created.json();
            assertThat(c.get("name").asText()).isEqualTo("acme");
            assertThat(c.get("weight").asInt()).isEqualTo(3);
            assertThat(c.get("apiKey").asText()).startsWith("hgk_").hasSize(4 + 43);
            assertThat(c.get("apiKeyId").asText()).startsWith("key_");
            assertThat(SigningSecret.parse(c.get("webhookSecret").asText())).isNotNull();
            assertThat(c.get("quotas").get("maxPendingJobs").asLong()).isEqualTo(1000);
            assertThat(c.get("quotas").get("schedulesPerSecond").asLong()).isEqualTo(50);
            assertThat(c.get("quotas").get("maxInFlight").asLong()).as("a default").isEqualTo(256);
            assertThat(created.header("Location")).isEqualTo("/v1/admin/tenants/acme");
            String key = c.get("apiKey").asText();

            Response shown = api.get("/v1/admin/tenants/acme", bearer(ADMIN_KEY));
            assertThat(shown.status()).isEqualTo(200);
            assertThat(shown.body()).as("a key is shown only when issued").doesNotContain(key);
            assertThat(shown.json().get("keys").findValuesAsText("id")).containsExactly(c.get("apiKeyId").asText());
            assertThat(shown.json().get("webhookSecrets").get(0).asText()).isEqualTo(c.get("webhookSecret").asText());

            assertThat(api.get("/v1/admin/tenants", bearer(ADMIN_KEY)).json().get("tenants").findValuesAsText("name"))
                    .containsExactly("acme", "default");

            Response patched = api.patch("/v1/admin/tenants/acme", "{\"weight\": 5, \"quotas\": "
                    + "{\"maxInFlight\": 8}}", bearer(ADMIN_KEY));
            assertThat(patched.status()).as(patched.body()).isEqualTo(200);
            assertThat(patched.json().get("weight").asInt()).isEqualTo(5);
            assertThat(patched.json().get("quotas").get("maxInFlight").asInt()).isEqualTo(8);
            assertThat(patched.json().get("quotas").get("maxPendingJobs").asLong()).as("untouched").isEqualTo(1000);
            assertThat(api.server().tenants().maxInFlight("acme")).as("applied at once").isEqualTo(8);
            assertThat(api.server().tenants().weight("acme")).isEqualTo(5);
        }
    }

    @Test
    void badAdminRequestsAreClear4xxAndChangeNothing() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            BadInputTest.assertProblem(api.post("/v1/admin/tenants", "{\"name\": \"Bad Name\"}", bearer(ADMIN_KEY)),
                    400, "name");
            BadInputTest.assertProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", \"weight\": 0}",
                    bearer(ADMIN_KEY)), 400, "weight");
            BadInputTest.assertProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", \"quotas\": "
                    + "{\"schedulesPerSecond\": -1, \"color\": 1}}", bearer(ADMIN_KEY)), 400, "quotas.color");
            BadInputTest.assertProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\", \"plan\": \"gold\"}",
                    bearer(ADMIN_KEY)), 400, "plan");
            BadInputTest.assertProblem(api.post("/v1/admin/tenants", "[1]", bearer(ADMIN_KEY)), 400, "body");
            assertThat(api.post("/v1/admin/tenants", "{\"name\": \"x\"}", bearer(ADMIN_KEY)).status()).isEqualTo(201);
            BadInputTest.assertProblem(api.post("/v1/admin/tenants", "{\"name\": \"x\"}", bearer(ADMIN_KEY)), 409,
                    "exists");
            BadInputTest.assertProblem(api.get("/v1/admin/tenants/nobody", bearer(ADMIN_KEY)), 404, "nobody");
            BadInputTest.assertProblem(api.patch("/v1/admin/tenants/nobody", "{}", bearer(ADMIN_KEY)), 404, "nobody");
            BadInputTest.assertProblem(api.post("/v1/admin/tenants/nobody/keys", "", bearer(ADMIN_KEY)), 404,
                    "nobody");
            BadInputTest.assertProblem(api.delete("/v1/admin/tenants/x/keys/key_0000", bearer(ADMIN_KEY)), 404,
                    "key_0000");
            BadInputTest.assertProblem(api.patch("/v1/admin/tenants/default", "{\"rotateWebhookSecret\": true}",
                    bearer(ADMIN_KEY)), 409, "HOURGLASS_WEBHOOK_SECRETS");
            BadInputTest.assertProblem(api.delete("/v1/admin/tenants", bearer(ADMIN_KEY)), 405, "DELETE");
            assertThat(api.get("/v1/admin/tenants", bearer(ADMIN_KEY)).json().get("tenants")
                    .findValuesAsText("name")).containsExactly("default", "x");
        }
    }

    @Test
    void withoutAnAdminKeyTheAdminApiIsOff() {
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir)
                .withKeys(new ServerKeys(null, ServerFixture.API_KEY)))) {
            BadInputTest.assertProblem(api.get("/v1/admin/tenants", bearer(ADMIN_KEY)), 403, "HOURGLASS_ADMIN_KEY");
            assertThat(api.get("/v1/jobs").status()).as("the jobs API works").isEqualTo(200);
        }
    }

    @Test
    void eachTenantsWebhooksAreSignedWithItsOwnSecretAndRotationSignsWithBoth() throws Exception {
        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(dir)) {
            Response created = api.post("/v1/admin/tenants", "{\"name\": \"acme\"}", bearer(ADMIN_KEY));
            String key = created.json().get("apiKey").asText();
            SigningSecret first = SigningSecret.parse(created.json().get("webhookSecret").asText());
            String job = "{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", \"url\": \""
                    + receiver.url("/acme") + "\"}, \"payload\": {\"n\": 1}}";

            assertThat(api.post("/v1/jobs", job, bearer(key)).status()).isEqualTo(201);
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/acme").size() == 1);
            Delivery d = receiver.deliveries("/acme").getFirst();
            assertThat(d.header("webhook-signature")).isEqualTo(v1(first, d))
                    .isNotEqualTo(v1(ServerFixture.WEBHOOK_SECRET, d));

            Response rotated = api.patch("/v1/admin/tenants/acme", "{\"rotateWebhookSecret\": true}",
                    bearer(ADMIN_KEY));
            JsonNode list = rotated.json().get("webhookSecrets");
            assertThat(list).hasSize(2);
            SigningSecret second = SigningSecret.parse(list.get(0).asText());
            assertThat(list.get(1).asText()).isEqualTo(first.encoded());
            assertThat(api.post("/v1/jobs", job, bearer(key)).status()).isEqualTo(201);
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/acme").size() == 2);
            Delivery both = receiver.deliveries("/acme").get(1);
            assertThat(both.header("webhook-signature")).isEqualTo(v1(second, both) + " " + v1(first, both));

            Response retired = api.patch("/v1/admin/tenants/acme", "{\"retireOldWebhookSecrets\": true}",
                    bearer(ADMIN_KEY));
            assertThat(retired.json().get("webhookSecrets")).hasSize(1);
        }
    }

    @Test
    void tenantsKeysAndQuotasSurviveARestartAndThePresetDefaultKeyIsNotDuplicated() {
        String key;
        try (ServerFixture api = ServerFixture.start(dir)) {
            key = api.post("/v1/admin/tenants", "{\"name\": \"acme\", \"quotas\": {\"maxPendingJobs\": 7}}",
                    bearer(ADMIN_KEY)).json().get("apiKey").asText();
        }
        try (ServerFixture api = ServerFixture.start(dir)) {
            assertThat(api.get("/v1/jobs", bearer(key)).status()).isEqualTo(200);
            assertThat(api.get("/v1/jobs").status()).as("the preset default key").isEqualTo(200);
            JsonNode acme = api.get("/v1/admin/tenants/acme", bearer(ADMIN_KEY)).json();
            assertThat(acme.get("quotas").get("maxPendingJobs").asLong()).isEqualTo(7);
            assertThat(api.get("/v1/admin/tenants/default", bearer(ADMIN_KEY)).json().get("keys")).hasSize(1);
        }
    }

    @Test
    void theFirstStartWithoutAPresetKeyGeneratesOneOnce() throws Exception {
        ServerConfig config = ServerFixture.config(dir).withKeys(new ServerKeys(ADMIN_KEY, null));
        String generated;
        try (ServerFixture api = ServerFixture.start(config)) {
            generated = api.server().generatedDefaultKey();
            assertThat(generated).startsWith("hgk_");
            assertThat(api.get("/v1/jobs", bearer(generated)).status()).isEqualTo(200);
        }
        try (ServerFixture api = ServerFixture.start(config)) {
            assertThat(api.server().generatedDefaultKey()).as("only on the first start").isNull();
            assertThat(api.get("/v1/jobs", bearer(generated)).status()).isEqualTo(200);
        }
        // The key is stored only as a hash: not in the store file, its WAL, or anything else in the data directory.
        try (var files = Files.list(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)).as(file.toString())
                        .doesNotContain(generated);
            }
        }
    }

    private static String v1(SigningSecret secret, Delivery d) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.encoded().substring(6)), "HmacSHA256"));
        String content = d.header("webhook-id") + "." + d.header("webhook-timestamp") + "." + d.body();
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
    }
}
