package dev.hourglass.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.server.MetricsOptions;
import dev.hourglass.server.Receiver;
import dev.hourglass.server.ServerFixture;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's package) scrapes a real server every second, and its query API reports what the
 * test caused: the attempts, their outcomes, the lateness histogram and the pending gauges, exactly (lateness
 * within the run's bounds). {@code bin/test} installs the package when it runs as root; elsewhere without it this
 * test is skipped with a message, never on CI ({@code CI=true}), where it fails instead.
 */
class PrometheusScrapeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    private final Receiver receiver = new Receiver();
    private ServerFixture api;
    private Process prometheus;

    @AfterEach
    void stop() throws InterruptedException {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
        if (api != null) {
            api.close();
        }
        receiver.close();
    }

    static Path prometheusBinary() {
        for (String candidate : List.of("/usr/bin/prometheus", "/usr/local/bin/prometheus")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        String message = "no prometheus binary (/usr/bin/prometheus): install Debian's 'prometheus' package "
                + "(bin/test does when it runs as root)";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(message + "; CI must run this test");
        }
        Assumptions.abort(message);
        return null;
    }

    @Test
    void prometheusSeesTheValuesTheRunCaused() throws Exception {
        Path binary = prometheusBinary();
        api = ServerFixture.start(ServerFixture.config(dir).withMetrics(MetricsOptions.DEFAULTS.withPort(0)
                .withPendingEvery(Duration.ofSeconds(1))));
        URI metrics = api.server().metricsUri().orElseThrow();
        int port = freePort();
        prometheus = startPrometheus(binary, metrics, port);
        String query = "http://127.0.0.1:" + port + "/api/v1/query?query=";

        receiver.on("/fail", nth -> Receiver.Reply.status(503));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(id(api.schedule("{\"delaySeconds\": 1, " + MetricsScenario.target(receiver, "/ok") + "}")));
        }
        ids.add(id(api.schedule("{\"delaySeconds\": 1, \"maxAttempts\": 2, \"backoff\": {\"initialSeconds\": "
                + "0.1, \"maxSeconds\": 0.1}, " + MetricsScenario.target(receiver, "/fail") + "}")));
        for (int i = 0; i < 2; i++) {
            api.schedule("{\"delaySeconds\": 7200, " + MetricsScenario.target(receiver, "/ok") + "}");
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> ids.stream().allMatch(
                id -> MetricsScenario.TERMINAL.contains(api.state(id))));

        // Prometheus scrapes every second: wait for a scrape taken after the last attempt was counted.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(value(query, "sum(hourglass_jobs_fired_total)")).isEqualTo(7);
            assertThat(value(query, "sum(hourglass_jobs_pending{due_window=\"lt_1d\"})")).isEqualTo(2);
        });
        assertThat(value(query, "sum(hourglass_jobs_scheduled_total{tenant=\"default\",source=\"api\"})"))
                .isEqualTo(8);
        assertThat(value(query, "sum(hourglass_delivery_attempts_total{outcome=\"success\",status_class=\"2xx\"})"))
                .isEqualTo(5);
        assertThat(value(query,
                "sum(hourglass_delivery_attempts_total{outcome=\"http_error\",status_class=\"5xx\"})")).isEqualTo(2);
        assertThat(value(query, "sum(hourglass_jobs_finished_total{result=\"failed\"})")).isEqualTo(1);
        assertThat(value(query, "sum(hourglass_fire_lateness_seconds_count)")).isEqualTo(7);
        assertThat(value(query, "sum(hourglass_fire_lateness_seconds_bucket{le=\"+Inf\"})")).isEqualTo(7);
        assertThat(value(query, "sum(hourglass_fire_lateness_seconds_bucket{le=\"10.0\"})"))
                .as("every attempt started within 10 s of its due time").isEqualTo(7);
        assertThat(value(query, "sum(hourglass_fire_lateness_seconds_sum)")).isBetween(0.0, 70.0);
        assertThat(value(query, "hourglass_store_up")).isEqualTo(1);
        assertThat(value(query, "up")).as("the scrape itself succeeds").isEqualTo(1);
    }

    private Process startPrometheus(Path binary, URI metrics, int port) throws IOException {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: hourglass
                    metrics_path: %s
                    static_configs:
                      - targets: ['%s:%d']
                """.formatted(metrics.getPath(), metrics.getHost(), metrics.getPort()));
        return new ProcessBuilder(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
    }

    /** The single value of an instant query; NaN when it has no result yet. */
    private static double value(String query, String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(query
                + URLEncoder.encode(promql, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode result = JSON.readTree(r.body()).path("data").path("result");
        if (!result.isArray() || result.isEmpty()) {
            return Double.NaN;
        }
        assertThat(result).as(promql).hasSize(1);
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String id(JsonNode job) {
        return job.get("id").asText();
    }
}
