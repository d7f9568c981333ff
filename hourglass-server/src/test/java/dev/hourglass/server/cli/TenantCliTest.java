package dev.hourglass.server.cli;

import static dev.hourglass.server.cli.CliProcess.hourglass;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.ServerFixture;
import dev.hourglass.server.cli.CliProcess.Run;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hourglass tenant ...} against a running server, as an operator runs it: a separate process, the admin key
 * in HOURGLASS_ADMIN_KEY, the server in HOURGLASS_URL.
 */
class TenantCliTest {
    @TempDir
    Path dir;

    @Test
    void anOperatorManagesTenantsFromTheCommandLine() throws Exception {
        try (ServerFixture api = ServerFixture.start(dir)) {
            Map<String, String> env = Map.of("HOURGLASS_ADMIN_KEY", ServerFixture.ADMIN_KEY,
                    "HOURGLASS_URL", api.server().baseUri().toString());

            Run created = hourglass(env, "tenant", "create", "acme", "--weight", "2",
                    "--quota", "maxPendingJobs=5", "--quota", "maxDelaySeconds=3600");
            assertThat(created.code()).as(created.err()).isZero();
            String key = created.json().get("apiKey").asText();
            assertThat(created.json().get("quotas").get("maxPendingJobs").asLong()).isEqualTo(5);
            assertThat(api.get("/v1/jobs", ServerFixture.bearer(key)).status()).as("the new key works").isEqualTo(200);

            Run list = hourglass(env, "tenant", "list");
            assertThat(list.code()).isZero();
            assertThat(list.json().get("tenants").findValuesAsText("name")).containsExactly("acme", "default");

            Run updated = hourglass(env, "tenant", "update", "acme", "--quota", "maxPendingJobs=9",
                    "--rotate-webhook-secret");
            assertThat(updated.code()).as(updated.err()).isZero();
            assertThat(updated.json().get("quotas").get("maxPendingJobs").asLong()).isEqualTo(9);
            assertThat(updated.json().get("webhookSecrets")).hasSize(2);

            Run added = hourglass(env, "tenant", "add-key", "acme");
            assertThat(added.code()).isZero();
            String keyId = added.json().get("id").asText();
            Run revoked = hourglass(env, "tenant", "revoke-key", "acme", keyId);
            assertThat(revoked.code()).as(revoked.err()).isZero();
            Run shown = hourglass(env, "tenant", "show", "acme");
            assertThat(shown.json().get("keys")).hasSize(2);
            assertThat(shown.out()).doesNotContain(key);

            Run unknown = hourglass(env, "tenant", "show", "nobody");
            assertThat(unknown.code()).isEqualTo(1);
            assertThat(unknown.err().strip()).isEqualTo("hourglass: 404: no tenant named 'nobody'");

            Run bad = hourglass(env, "tenant", "create", "Bad Name");
            assertThat(bad.code()).isEqualTo(1);
            assertThat(bad.err()).startsWith("hourglass: 400: name:");

            Run noKey = hourglass(Map.of("HOURGLASS_URL", api.server().baseUri().toString()), "tenant", "list");
            assertThat(noKey.code()).isEqualTo(2);
            assertThat(noKey.err().strip()).isEqualTo("hourglass: set HOURGLASS_ADMIN_KEY to the server's admin key");
        }
    }

    @Test
    void aServerThatIsNotRunningIsOneClearLine() throws Exception {
        Run r = hourglass(Map.of("HOURGLASS_ADMIN_KEY", "whatever-admin-key-0123456789"), "tenant", "list",
                "--url", "http://127.0.0.1:9");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("hourglass: cannot connect to http://127.0.0.1:9 (is the server running? "
                + "set --url or HOURGLASS_URL)");
    }
}
