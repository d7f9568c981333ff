package dev.hourglass.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.Receiver;
import dev.hourglass.server.ServerFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A scripted run against a real server and a real receiver, and what its {@code /metrics} must then say, exactly:
 * 8 jobs created (7 of tenant {@code default}, 1 of {@code slow}), 4 deliveries that succeed, 2 jobs whose 2
 * attempts each get a 500, 2 jobs cancelled, 1 schedule refused by a quota, 1 job pending for hours. Run on each
 * store by the tests of this package.
 */
final class MetricsScenario {
    static final List<String> TERMINAL = List.of("SUCCEEDED", "FAILED", "CANCELLED");

    private MetricsScenario() {}

    /** Runs the script on {@code api} (whose metrics are on its API port) and checks the scrape. */
    static PrometheusText runAndCheck(ServerFixture api, Receiver receiver) {
        receiver.on("/fail", nth -> Receiver.Reply.status(500));
        String ok = target(receiver, "/ok");
        String fail = target(receiver, "/fail");
        List<String> finishing = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            finishing.add(id(api.schedule("{\"delaySeconds\": 0, " + ok + "}")));
        }
        for (int i = 0; i < 2; i++) {
            finishing.add(id(api.schedule("{\"delaySeconds\": 0, \"maxAttempts\": 2, \"backoff\": "
                    + "{\"initialSeconds\": 0.05, \"maxSeconds\": 0.05}, " + fail + "}")));
        }
        for (int i = 0; i < 2; i++) {
            String id = id(api.schedule("{\"delaySeconds\": 3600, " + ok + "}"));
            assertThat(api.delete("/v1/jobs/" + id).status()).isEqualTo(200);
        }
        ServerFixture.Response tenant = api.post("/v1/admin/tenants", """
                {"name": "slow", "quotas": {"schedulesPerSecond": 1, "scheduleBurst": 1}}""",
                ServerFixture.bearer(ServerFixture.ADMIN_KEY));
        assertThat(tenant.status()).as(tenant.body()).isEqualTo(201);
        String slowKey = tenant.json().get("apiKey").asText();
        ServerFixture.Response slowJob = api.post("/v1/jobs", "{\"delaySeconds\": 0, " + ok + "}",
                ServerFixture.bearer(slowKey));
        assertThat(slowJob.status()).isEqualTo(201);
        assertThat(api.post("/v1/jobs", "{\"delaySeconds\": 0, " + ok + "}", ServerFixture.bearer(slowKey))
                .status()).isEqualTo(429);
        api.schedule("{\"delaySeconds\": 7200, " + ok + "}"); // pending, due in 1 h to 1 d

        await().atMost(Duration.ofSeconds(20)).until(() -> finishing.stream().allMatch(
                id -> TERMINAL.contains(api.state(id))));
        await().atMost(Duration.ofSeconds(10)).until(() -> TERMINAL.contains(
                api.get("/v1/jobs/" + id(slowJob.json()), ServerFixture.bearer(slowKey)).json().get("state").asText()));
        api.server().samplePendingMetrics();

        PrometheusText m = scrape(api);
        assertThat(m.value("hourglass_jobs_scheduled_total", "tenant", "default", "source", "api")).isEqualTo(8);
        assertThat(m.value("hourglass_jobs_scheduled_total", "tenant", "slow", "source", "api")).isEqualTo(1);
        assertThat(m.value("hourglass_quota_rejections_total", "tenant", "slow", "quota", "schedulesPerSecond"))
                .isEqualTo(1);
        assertThat(m.value("hourglass_jobs_fired_total", "tenant", "default", "target_type", "webhook"))
                .isEqualTo(7);
        assertThat(m.value("hourglass_jobs_fired_total", "tenant", "slow")).isEqualTo(1);
        assertThat(m.value("hourglass_delivery_attempts_total", "tenant", "default", "target_type", "webhook",
                "outcome", "success", "status_class", "2xx")).isEqualTo(3);
        assertThat(m.value("hourglass_delivery_attempts_total", "tenant", "default", "target_type", "webhook",
                "outcome", "http_error", "status_class", "5xx")).isEqualTo(4);
        assertThat(m.value("hourglass_delivery_attempt_duration_seconds_count", "target_type", "webhook"))
                .isEqualTo(8);
        assertThat(m.value("hourglass_jobs_finished_total", "tenant", "default", "result", "succeeded"))
                .isEqualTo(3);
        assertThat(m.value("hourglass_jobs_finished_total", "tenant", "default", "result", "failed")).isEqualTo(2);
        assertThat(m.value("hourglass_jobs_finished_total", "tenant", "default", "result", "cancelled"))
                .isEqualTo(2);
        assertThat(m.value("hourglass_jobs_finished_total", "tenant", "slow", "result", "succeeded")).isEqualTo(1);

        // Lateness: one observation per attempt, each within the run (well under 10 s) and never negative.
        assertThat(m.value("hourglass_fire_lateness_seconds_count", "tenant", "default")).isEqualTo(7);
        assertThat(m.value("hourglass_fire_lateness_seconds_bucket", "tenant", "default", "le", "+Inf"))
                .isEqualTo(7);
        assertThat(m.value("hourglass_fire_lateness_seconds_bucket", "tenant", "default", "le", "10.0"))
                .isEqualTo(7);
        assertThat(m.value("hourglass_fire_lateness_seconds_sum", "tenant", "default")).isBetween(0.0, 70.0);

        assertThat(m.value("hourglass_jobs_pending", "tenant", "default", "due_window", "lt_1d")).isEqualTo(1);
        assertThat(m.value("hourglass_jobs_pending", "tenant", "default", "due_window", "overdue")).isZero();
        assertThat(m.value("hourglass_jobs_pending", "tenant", "default")).isEqualTo(1);
        assertThat(m.value("hourglass_oldest_overdue_age_seconds", "tenant", "default")).isZero();
        assertThat(m.value("hourglass_schedule_duration_seconds_count")).isEqualTo(9);
        assertThat(m.value("hourglass_store_up")).isEqualTo(1);
        assertThat(m.has("hourglass_timer_entries")).isTrue();
        assertThat(m.value("hourglass_lease_renewals_total", "result", "renewed")).isPositive();
        assertThat(m.value("hourglass_store_commit_duration_seconds_count", "kind", "group")).isPositive();
        assertThat(m.value("hourglass_store_commit_batch_size_count", "kind", "group")).isPositive();
        assertThat(m.has("jvm_memory_used_bytes")).isTrue();
        assertThat(m.has("process_cpu_usage")).isTrue();
        return m;
    }

    static PrometheusText scrape(ServerFixture api) {
        ServerFixture.Response r = api.get("/metrics", ServerFixture.bearer(ServerFixture.ADMIN_KEY));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return PrometheusText.parse(r.body());
    }

    /** The label values of one label across a meter's samples. */
    static Set<String> labelValues(PrometheusText m, String name, String label) {
        Set<String> values = new java.util.TreeSet<>();
        m.matching(name).forEach(s -> values.add(s.labels().get(label)));
        return values;
    }

    static String target(Receiver receiver, String path) {
        return "\"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url(path) + "\"}";
    }

    private static String id(JsonNode job) {
        return job.get("id").asText();
    }
}
