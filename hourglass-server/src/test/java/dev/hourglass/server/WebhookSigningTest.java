package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.server.Receiver.Reply;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.webhook.signing.SigningSecret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every delivery is signed as Standard Webhooks say, checked here by recomputing the HMAC independently of the
 * signer; {@code StandardWebhooksReceiverTest} checks the same with the official library. Also: how the server
 * gets its secret (configured, or generated once and kept for SQLite; required on PostgreSQL).
 */
class WebhookSigningTest {
    @TempDir
    Path dir;

    private static String job(Receiver receiver, String path) {
        return "{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url(path) + "\"},"
                + " \"payload\": {\"orderId\": 42, \"amount\": 19.90},"
                + " \"backoff\": {\"initialSeconds\": 0.05, \"maxSeconds\": 0.1}}";
    }

    /** The Standard Webhooks signature, computed here from the spec's definition. */
    private static String v1(SigningSecret secret, Delivery d) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.encoded().substring(6)), "HmacSHA256"));
        String content = d.header("webhook-id") + "." + d.header("webhook-timestamp") + "." + d.body();
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void everyDeliveryCarriesTheStandardWebhooksHeadersBesideHourglasss() throws Exception {
        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(dir)) {
            long before = System.currentTimeMillis() / 1000;
            String id = api.schedule(job(receiver, "/hook")).get("id").asText();
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/hook").size() == 1);
            long after = System.currentTimeMillis() / 1000;

            Delivery d = receiver.deliveries("/hook").getFirst();
            assertThat(d.header("webhook-id")).as("the message id is the job id").isEqualTo(id);
            assertThat(Long.parseLong(d.header("webhook-timestamp"))).isBetween(before, after);
            assertThat(d.header("webhook-signature")).isEqualTo(v1(ServerFixture.WEBHOOK_SECRET, d));
            assertThat(d.header("Hourglass-Job-Id")).isEqualTo(id);
            assertThat(d.header("Hourglass-Attempt")).isEqualTo("1");
            assertThat(d.header("Idempotency-Key")).isEqualTo(id + ":1");
        }
    }

    @Test
    void aRetryKeepsTheWebhookIdAndIsSignedAgainForItsOwnTimestamp() throws Exception {
        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(dir)) {
            receiver.on("/flaky", n -> Reply.status(n == 1 ? 500 : 200));
            String id = api.schedule(job(receiver, "/flaky")).get("id").asText();
            await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("SUCCEEDED"));

            List<Delivery> deliveries = receiver.deliveries("/flaky");
            assertThat(deliveries).hasSize(2);
            assertThat(deliveries).extracting(d -> d.header("webhook-id")).containsOnly(id);
            assertThat(deliveries).extracting(d -> d.header("Idempotency-Key")).containsExactly(id + ":1", id + ":2");
            for (Delivery d : deliveries) {
                assertThat(d.header("webhook-signature")).isEqualTo(v1(ServerFixture.WEBHOOK_SECRET, d));
            }
        }
    }

    /** Rotation: every configured secret signs, newest first, so receivers holding either one accept. */
    @Test
    void withTwoSecretsEachDeliveryCarriesASignaturePerSecretNewestFirst() throws Exception {
        SigningSecret newer = SigningSecret.generate();
        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(ServerFixture.config(dir)
                .withWebhookSecrets(List.of(newer, ServerFixture.WEBHOOK_SECRET)))) {
            api.schedule(job(receiver, "/hook"));
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/hook").size() == 1);
            Delivery d = receiver.deliveries("/hook").getFirst();
            assertThat(d.header("webhook-signature").split(" "))
                    .containsExactly(v1(newer, d), v1(ServerFixture.WEBHOOK_SECRET, d));
            assertThat(api.server().webhookSigning().description()).contains("2 configured secrets")
                    .contains(newer.keyId()).contains(ServerFixture.WEBHOOK_SECRET.keyId())
                    .doesNotContain(newer.encoded().substring(6));
        }
    }

    @Test
    void aTargetCannotSetTheSignatureHeaders() {
        try (ServerFixture api = ServerFixture.start(dir)) {
            for (String name : List.of("webhook-signature", "Webhook-Id", "WEBHOOK-TIMESTAMP")) {
                BadInputTest.assertFieldProblem(api.post("/v1/jobs", "{\"delaySeconds\": 5, \"target\": {\"type\":"
                        + " \"webhook\", \"url\": \"http://127.0.0.1:9/x\", \"headers\": {\"" + name + "\": \"v1,x\"}}}"),
                        400, "target.headers");
            }
        }
    }

    /** Without a configured secret, the SQLite server generates one on its first start and keeps it (mode 600). */
    @Test
    void aGeneratedSecretIsKeptInTheDataDirectoryAndUsedAfterARestart() throws Exception {
        ServerConfig config = ServerFixture.config(dir).withWebhookSecrets(List.of());
        SigningSecret generated;
        try (ServerFixture api = ServerFixture.start(config)) {
            generated = api.server().webhookSigning().generated();
            assertThat(generated).as("generated by this first start").isNotNull();
        }
        Path file = dir.resolve("webhook-secret").toAbsolutePath();
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(file).strip()).isEqualTo(generated.encoded());

        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(config)) {
            WebhookSigningSetup signing = api.server().webhookSigning();
            assertThat(signing.generated()).as("not generated again").isNull();
            assertThat(signing.description()).isEqualTo("the secret in " + file + " (key id " + generated.keyId() + ")");
            api.schedule(job(receiver, "/hook"));
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/hook").size() == 1);
            Delivery d = receiver.deliveries("/hook").getFirst();
            assertThat(d.header("webhook-signature")).isEqualTo(v1(generated, d));
        }
    }

    /** Nodes sharing a database must share the secret: refused before anything is opened. */
    @Test
    void postgresWithoutAConfiguredSecretDoesNotStart() {
        ServerConfig config = ServerFixture.config(dir).withWebhookSecrets(List.of())
                .withPostgres(PostgresOptions.of("jdbc:postgresql://127.0.0.1:1/hourglass", null, null));
        assertThatThrownBy(() -> HourglassServer.start(config)).isInstanceOf(StartupException.class)
                .hasMessageContaining("every node must sign webhooks with the same secret")
                .hasMessageContaining("HOURGLASS_WEBHOOK_SECRETS");
        assertThat(Arrays.asList(dir.toFile().list())).as("nothing created").isEmpty();
    }
}
