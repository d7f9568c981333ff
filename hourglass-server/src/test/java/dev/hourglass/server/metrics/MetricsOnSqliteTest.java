package dev.hourglass.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.MetricsOptions;
import dev.hourglass.server.Receiver;
import dev.hourglass.server.ServerFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} of a server on SQLite: the exact values of a scripted run, who may read them, where. */
class MetricsOnSqliteTest {
    @TempDir
    Path dir;
    private final Receiver receiver = new Receiver();
    private ServerFixture api;

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
        receiver.close();
    }

    @Test
    void aScriptedRunGivesExactCounts() {
        api = ServerFixture.start(ServerFixture.config(dir));
        PrometheusText m = MetricsScenario.runAndCheck(api, receiver);
        assertThat(m.value("hourglass_store_commit_duration_seconds_count", "store", "sqlite")).isPositive();
    }

    @Test
    void timeoutsAndConnectionFailuresHaveOutcomesOfTheirOwn() {
        api = ServerFixture.start(ServerFixture.config(dir));
        receiver.on("/hang", nth -> Receiver.Reply.hanging());
        String hanging = api.schedule("{\"delaySeconds\": 0, \"maxAttempts\": 1, \"timeoutSeconds\": 1, "
                + MetricsScenario.target(receiver, "/hang") + "}").get("id").asText();
        String refused = api.schedule("{\"delaySeconds\": 0, \"maxAttempts\": 1, \"target\": {\"type\": "
                + "\"webhook\", \"url\": \"http://127.0.0.1:9/nobody-listens\"}}").get("id").asText();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(15)).until(() ->
                api.state(hanging).equals("FAILED") && api.state(refused).equals("FAILED"));

        // The watchdog records a timed-out attempt's outcome at once; the attempt itself reports when its thread,
        // interrupted, gives up the request.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
            PrometheusText m = MetricsScenario.scrape(api);
            assertThat(m.value("hourglass_delivery_attempts_total", "outcome", "timeout", "status_class", "none"))
                    .isEqualTo(1);
            assertThat(m.value("hourglass_delivery_attempts_total", "outcome", "connect_error",
                    "status_class", "none")).isEqualTo(1);
            assertThat(m.value("hourglass_jobs_finished_total", "result", "failed")).isEqualTo(2);
        });
    }

    @Test
    void onTheApiPortTheyTakeTheAdminKey() {
        api = ServerFixture.start(ServerFixture.config(dir));

        assertThat(api.get("/metrics", "Authorization", "").status()).isEqualTo(401);
        assertThat(api.get("/metrics").status()).as("a tenant's key").isEqualTo(403);
        assertThat(api.get("/metrics", ServerFixture.bearer(ServerFixture.ADMIN_KEY)).status()).isEqualTo(200);
        assertThat(api.post("/metrics", "{}", ServerFixture.bearer(ServerFixture.ADMIN_KEY)).status())
                .isEqualTo(405);
    }

    @Test
    void withoutAnAdminKeyTheyAreOpenLikeHealthz() {
        api = ServerFixture.start(ServerFixture.config(dir)
                .withKeys(new dev.hourglass.server.ServerKeys(null, ServerFixture.API_KEY)));

        assertThat(api.get("/metrics", "Authorization", "").status()).isEqualTo(200);
    }

    @Test
    void openMetricsWhenAskedByAccept() {
        api = ServerFixture.start(ServerFixture.config(dir));

        ServerFixture.Response r = api.get("/metrics", "Authorization", "Bearer " + ServerFixture.ADMIN_KEY,
                "Accept", "application/openmetrics-text; version=1.0.0,text/plain;q=0.5");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(
                "application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(r.body()).contains("# TYPE hourglass_store_up gauge").endsWith("# EOF\n");
    }

    @Test
    void onAPortOfTheirOwnTheyTakeNoKeyAndLeaveTheApi() throws Exception {
        api = ServerFixture.start(ServerFixture.config(dir).withMetrics(MetricsOptions.DEFAULTS.withPort(0)));
        URI metrics = api.server().metricsUri().orElseThrow();
        assertThat(metrics.getPort()).isNotEqualTo(api.server().port());

        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(PrometheusText.parse(r.body()).value("hourglass_store_up")).isEqualTo(1);
        assertThat(api.get("/metrics", ServerFixture.bearer(ServerFixture.ADMIN_KEY)).status()).isEqualTo(404);
    }

    @Test
    void offMeansNoEndpointAndNoMeters() {
        api = ServerFixture.start(ServerFixture.config(dir).withMetrics(MetricsOptions.DEFAULTS.withEnabled(false)));

        assertThat(api.get("/metrics", ServerFixture.bearer(ServerFixture.ADMIN_KEY)).status()).isEqualTo(404);
        assertThat(api.server().meterRegistry()).isEmpty();
        assertThat(api.server().metricsUri()).isEmpty();
    }

    @Test
    void tenantsBeyondTheLabelLimitAreCountedAsOther() {
        api = ServerFixture.start(ServerFixture.config(dir).withMetrics(MetricsOptions.DEFAULTS.withTenantLabels(1)));
        for (String name : new String[] {"t1", "t2"}) {
            ServerFixture.Response t = api.post("/v1/admin/tenants", "{\"name\": \"" + name + "\"}",
                    ServerFixture.bearer(ServerFixture.ADMIN_KEY));
            String key = t.json().get("apiKey").asText();
            assertThat(api.post("/v1/jobs", "{\"delaySeconds\": 60, " + MetricsScenario.target(receiver, "/x") + "}",
                    ServerFixture.bearer(key)).status()).isEqualTo(201);
        }
        api.schedule("{\"delaySeconds\": 60, " + MetricsScenario.target(receiver, "/x") + "}");

        PrometheusText m = MetricsScenario.scrape(api);

        assertThat(MetricsScenario.labelValues(m, "hourglass_jobs_scheduled_total", "tenant"))
                .containsExactly("other", "t1");
        assertThat(m.value("hourglass_jobs_scheduled_total")).isEqualTo(3);
    }
}
