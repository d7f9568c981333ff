package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.server.ServerFixture.Response;
import dev.hourglass.webhook.WebhookHandler;
import dev.hourglass.webhook.WebhookTarget;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import dev.hourglass.webhook.signing.WebhookSecrets;
import dev.hourglass.webhook.signing.WebhookSigner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Webhooks may not reach loopback, private, link-local, CGNAT, multicast or metadata addresses unless allowlisted:
 * refused at schedule time (400 naming {@code target.url}) and again at delivery time, by the client's resolver.
 * Nothing here connects outside loopback: refused targets are never contacted, and the one allowlisted private
 * address is scheduled an hour out and cancelled.
 */
class SsrfGuardTest {
    @TempDir
    Path dir;

    private ServerFixture serverWith(WebhookAllowlist allowlist) {
        return ServerFixture.start(ServerFixture.config(dir).withWebhookAllowlist(allowlist));
    }

    private static String job(String url, int delaySeconds) {
        return "{\"delaySeconds\": " + delaySeconds + ", \"target\": {\"type\": \"webhook\", \"url\": \"" + url
                + "\"}}";
    }

    /** The list, and the rule each one breaks. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "http://127.0.0.1:9/hook                          | loopback",
        "http://10.0.0.1/hook                             | private",
        "http://169.254.169.254/latest/meta-data/         | cloud metadata",
        "http://localhost:9/hook                          | loopback",
        "http://[::1]:9/hook                              | loopback",
        "http://[::ffff:127.0.0.1]:9/hook                 | loopback",
        "http://2130706433/                               | loopback",
        "https://100.64.1.1/hook                          | CGNAT",
        "http://[fd00:ec2::254]/latest/meta-data/         | cloud metadata",
    })
    void aBlockedTargetIsRefusedAtScheduleTimeNamingTheFieldTheRuleAndTheAllowlist(String url, String rule) {
        try (ServerFixture api = serverWith(WebhookAllowlist.none())) {
            Response r = api.post("/v1/jobs", job(url, 0));
            JsonNode problem = BadInputTest.assertFieldProblem(r, 400, "target.url");
            assertThat(problem.get("type").asText()).isEqualTo("urn:hourglass:problem:invalid-request");
            assertThat(problem.get("errors").get(0).get("rule").asText())
                    .contains("must not reach a " + rule + " address")
                    .contains("--webhook-allowlist").contains("HOURGLASS_WEBHOOK_ALLOWLIST");
            assertThat(api.allJobs()).as("nothing stored").isEmpty();
        }
    }

    @Test
    void theRuleSaysWhatTheHostResolvesTo() {
        try (ServerFixture api = serverWith(WebhookAllowlist.none())) {
            JsonNode problem = BadInputTest.assertFieldProblem(api.post("/v1/jobs", job("http://localhost:9/x", 0)),
                    400, "target.url");
            assertThat(problem.get("detail").asText()).contains("target.url: must not reach a loopback address: "
                    + "localhost resolves to 127.0.0.1, a loopback address (127.0.0.0/8)");
        }
    }

    /**
     * Shorthand IPv4 forms that java.net.URI does not read as a host are refused as having none. (A form it reads as
     * a name that the JDK then cannot resolve, such as {@code 0x7f000001}, cannot be connected to either; see
     * {@code GuardedDnsResolverTest}.)
     */
    @Test
    void shorthandAddressFormsDoNotSlipThrough() {
        try (ServerFixture api = serverWith(WebhookAllowlist.none())) {
            for (String url : List.of("http://0x7f.1/", "http://127.1/", "http://0177.1/")) {
                Response r = api.post("/v1/jobs", job(url, 0));
                assertThat(r.status()).as(url + ": " + r.body()).isEqualTo(400);
                assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo("target.url");
            }
            assertThat(api.allJobs()).isEmpty();
        }
    }

    @Test
    void anAllowlistedRangePermitsItsAddressesAndOnlyThose() {
        try (ServerFixture api = serverWith(WebhookAllowlist.parse("10.0.0.0/8"))) {
            // An hour out, then cancelled: never delivered (no traffic to a private address from a test).
            JsonNode job = api.schedule(job("http://10.0.0.1/hook", 3600));
            assertThat(api.delete("/v1/jobs/" + job.get("id").asText()).status()).isEqualTo(200);
            BadInputTest.assertFieldProblem(api.post("/v1/jobs", job("http://192.168.0.1/hook", 3600)), 400,
                    "target.url");
        }
    }

    @Test
    void anAllowlistedLoopbackRangeIsDeliveredTo() {
        try (Receiver receiver = new Receiver();
                ServerFixture api = serverWith(WebhookAllowlist.parse("127.0.0.0/8"))) {
            String id = api.schedule(job(receiver.url("/ok").toString(), 0)).get("id").asText();
            await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("SUCCEEDED"));
            assertThat(receiver.deliveries("/ok")).hasSize(1);
        }
    }

    /**
     * A job whose target was never checked by the API (stored through the library, or before an allowlist entry
     * was removed) is refused at delivery: a failed attempt, with the reason in lastError, and no connection made.
     */
    @Test
    void aDeliveryToABlockedAddressIsAFailedAttemptWithTheReason() {
        try (Receiver receiver = new Receiver(); ServerFixture api = serverWith(WebhookAllowlist.none())) {
            String target = new WebhookTarget(receiver.url("/hook"), Map.of()).toJson();
            String id = api.server().hourglass().schedule(JobRequest.of(WebhookHandler.NAME,
                    "{}".getBytes(StandardCharsets.UTF_8)).withTarget(target).withMaxAttempts(1), When.after(Duration.ZERO))
                    .job().id().toString();
            await().atMost(Duration.ofSeconds(10)).until(() -> api.state(id).equals("FAILED"));
            assertThat(api.get("/v1/jobs/" + id).json().get("lastError").asText()).isEqualTo("refused: 127.0.0.1 is "
                    + "a loopback address (127.0.0.0/8), not in the webhook allowlist (attempt 1 of 1)");
            assertThat(receiver.deliveries()).as("never contacted").isEmpty();
        }
    }

    /** The delivery-time check is the client's own resolver: what it refuses is never connected to. */
    @Test
    void theWebhookClientRefusesABlockedAddressBeforeConnecting() throws Exception {
        try (Receiver receiver = new Receiver();
                CloseableHttpClient client = WebhookHandler.newClient(Duration.ofSeconds(2),
                        GuardedDnsResolver.system(WebhookAllowlist.none()))) {
            WebhookHandler handler = new WebhookHandler(client, Duration.ofSeconds(2), Duration.ofSeconds(5),
                    new WebhookSigner(WebhookSecrets.of(List.of(ServerFixture.WEBHOOK_SECRET)), SystemTime.wallClock()));
            for (String host : List.of("127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433")) {
                String url = receiver.url("/hook").toString().replace("127.0.0.1", host);
                Outcome outcome = handler.handle(new JobContext(job(url)));
                assertThat(outcome).as(host).isInstanceOf(Outcome.Retry.class);
                assertThat(((Outcome.Retry) outcome).reason()).as(host).startsWith("refused: ")
                        .contains("a loopback address (127.0.0.0/8), not in the webhook allowlist");
            }
            assertThat(receiver.deliveries()).isEmpty();
        }
    }

    private static Job job(String url) {
        Instant now = Instant.now();
        return new Job(new JobIdGenerator(SystemTime.wallClock()).next(), "default", WebhookHandler.NAME,
                new WebhookTarget(java.net.URI.create(url), Map.of()).toJson(), "{}".getBytes(StandardCharsets.UTF_8),
                JobState.RUNNING, now, now, now, 1, 1, new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1)),
                null, null, null, null, "test-node", 1, null);
    }
}
