package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.monitor.MonitorConfig;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.server.Receiver.Reply;
import dev.hourglass.server.ServerFixture.Response;
import dev.hourglass.tenancy.TargetSettings;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Target alarms end to end on a real server, on the real clock: a real webhook receiver starts failing; the alarm is
 * raised within the window; the tenant's operations webhook (a Node.js receiver verifying every request with the
 * official Standard Webhooks library) receives the signed events; the target is paused and its due jobs held without
 * spending attempts; the probe succeeds once the receiver recovers; everything held is delivered once, none early.
 * The monitor runs on a compressed time scale ({@link TargetWatching}): buckets of 1 s over 20 s, an evaluation every
 * 200 ms, a pause 2 s into the alarm, the first probe 3 s after it.
 */
class TargetAlarmsTest {
    @TempDir
    Path dir;

    private Receiver receiver;
    private NodeReceiver operations;
    private ServerFixture api;
    private final AtomicBoolean failing = new AtomicBoolean(true);

    @BeforeEach
    void start() throws Exception {
        operations = NodeReceiver.start(Map.of("/ops", ServerFixture.WEBHOOK_SECRET.encoded()));
        receiver = new Receiver().on("/hook", nth -> Reply.status(failing.get() ? 503 : 200));
        TargetMonitor.Settings fast = new TargetMonitor.Settings(
                new MonitorConfig(Duration.ofSeconds(1), Duration.ofSeconds(20), Duration.ofSeconds(5), 1_000),
                Duration.ofMillis(200), Duration.ofMillis(100), Duration.ofSeconds(2), 10_000, true);
        api = ServerFixture.start(ServerFixture.config(dir)
                .withTargets(TargetSettings.DEFAULTS.withAutoPause(true, 60)
                        .withOperationsWebhook(operations.resolve("/ops")))
                .withWatching(new TargetWatching(fast, policy -> policy.withAutoPause(true, Duration.ofSeconds(2))
                        .withProbes(Duration.ofSeconds(3), Duration.ofSeconds(6)))));
    }

    @AfterEach
    void stop() throws Exception {
        api.close();
        receiver.close();
        operations.close();
    }

    private String job(int delaySeconds) {
        return "{\"delaySeconds\": " + delaySeconds + ", \"target\": {\"type\": \"webhook\", \"url\": \""
                + receiver.url("/hook") + "\"}, \"payload\": {\"n\": 1}, \"maxAttempts\": 1}";
    }

    private String origin() {
        return "http://127.0.0.1:" + receiver.url("/").getPort();
    }

    private JsonNode target() {
        Response r = api.get("/v1/targets/" + URLEncoder.encode(origin(), StandardCharsets.UTF_8));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    /** The operations events received and verified so far, by type. */
    private List<JsonNode> events(String type) throws Exception {
        List<JsonNode> found = new ArrayList<>();
        for (JsonNode seen : operations.seen()) {
            assertThat(seen.get("verified").asBoolean()).as("verified by the library: %s", seen).isTrue();
            JsonNode body = ServerFixture.JSON.readTree(seen.get("body").asText());
            if (body.get("type").asText().equals(type)) {
                found.add(body);
            }
        }
        return found;
    }

    @Test
    void aFailingReceiverIsAlarmedPausedProbedAndResumedWithNothingLostOrEarly() throws Exception {
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            failed.add(api.schedule(job(0)).get("id").asText());
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> failed.stream().allMatch(id -> api.state(id)
                .equals("FAILED")));

        // Raised within the window, told once to the operations webhook, signed.
        await().atMost(Duration.ofSeconds(10)).until(() -> target().get("level").asText().equals("ALARMING"));
        JsonNode alarming = target();
        assertThat(alarming.get("attempts").asInt()).isEqualTo(12);
        assertThat(alarming.get("errorRate").asDouble()).isEqualTo(1.0);
        assertThat(alarming.get("lastError").asText()).startsWith("http_error: HTTP 503");
        await().atMost(Duration.ofSeconds(10)).until(() -> events("target.alarm.raised").size() == 1);
        JsonNode raised = events("target.alarm.raised").getFirst();
        assertThat(raised.get("data").get("target").asText()).isEqualTo(origin());
        assertThat(raised.get("data").get("errorRate").asDouble()).isEqualTo(1.0);
        await().atMost(Duration.ofSeconds(10)).until(() -> events("job.failed").size() == 12);

        // The history of a failed job: one attempt, its status and target.
        JsonNode attempts = api.get("/v1/jobs/" + failed.getFirst() + "/attempts").json().get("attempts");
        assertThat(attempts).hasSize(1);
        assertThat(attempts.get(0).get("outcome").asText()).isEqualTo("http_error");
        assertThat(attempts.get(0).get("status").asInt()).isEqualTo(503);
        assertThat(attempts.get(0).get("target").asText()).isEqualTo(origin());

        // Paused 2 s into the alarm; the receiver recovers; jobs due meanwhile are held, their attempts unspent.
        await().atMost(Duration.ofSeconds(10)).until(() -> target().get("paused").asText().equals("AUTO"));
        failing.set(false);
        List<String> held = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            held.add(api.schedule(job(1)).get("id").asText());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> target().get("held").asInt() >= 7);
        int unspent = 0;
        for (String id : held) {
            JsonNode job = api.get("/v1/jobs/" + id).json();
            if (job.get("state").asText().equals("SCHEDULED") && job.get("attempts").asInt() == 0) {
                unspent++;
            }
        }
        assertThat(unspent).as("held: SCHEDULED, no attempt spent (one may already be the probe)")
                .isGreaterThanOrEqualTo(7);

        // The probe (3 s after the pause) succeeds: resumed, and everything held is delivered once, none early.
        await().atMost(Duration.ofSeconds(20)).until(() -> held.stream().allMatch(id -> api.state(id)
                .equals("SUCCEEDED")));
        await().atMost(Duration.ofSeconds(5)).until(() -> events("target.resumed").size() == 1);
        assertThat(events("target.paused")).hasSize(1);
        assertThat(target().get("paused").isNull()).isTrue();
        for (String id : held) {
            JsonNode job = api.get("/v1/jobs/" + id).json();
            assertThat(job.get("attempts").asInt()).isEqualTo(1);
            List<Delivery> of = receiver.deliveries("/hook").stream()
                    .filter(d -> id.equals(d.header("Hourglass-Job-Id"))).toList();
            assertThat(of).as("delivered once").hasSize(1);
            assertThat(of.getFirst().arrivedMillis()).as("never before its due time")
                    .isGreaterThanOrEqualTo(Instant.parse(job.get("dueAt").asText()).toEpochMilli());
        }

        String metrics = api.get("/metrics", "Authorization", "Bearer " + ServerFixture.ADMIN_KEY).body();
        assertThat(metrics).contains("hourglass_target_alarm_transitions_total{tenant=\"default\",type=\"alarm_raised\"} 1.0");
        assertThat(metrics).contains("hourglass_target_alarm_transitions_total{tenant=\"default\",type=\"paused\"} 1.0");
    }

    @Test
    void aTargetPausedByHandHoldsItsJobsUntilResumedByHand() throws Exception {
        failing.set(false);
        String first = api.schedule(job(0)).get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> api.state(first).equals("SUCCEEDED"));
        await().atMost(Duration.ofSeconds(5)).until(() -> api.get("/v1/targets").json().get("targets").size() == 1);
        String id = api.get("/v1/targets").json().get("targets").get(0).get("id").asText();

        Response paused = api.post("/v1/targets/" + id + "/pause", "");
        assertThat(paused.status()).as(paused.body()).isEqualTo(200);
        assertThat(paused.json().get("paused").asText()).isEqualTo("MANUAL");
        assertThat(paused.json().get("pausedBy").asText()).isEqualTo("default");
        List<String> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(api.schedule(job(0)).get("id").asText());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> target().get("held").asInt() == 3);
        Thread.sleep(500); // no probe ever lets one through
        for (String h : held) {
            assertThat(api.get("/v1/jobs/" + h).json().get("attempts").asInt()).isZero();
        }

        Response resumed = api.post("/v1/targets/" + id + "/resume", "");
        assertThat(resumed.status()).as(resumed.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> held.stream().allMatch(h -> api.state(h)
                .equals("SUCCEEDED")));
        assertThat(events("target.paused")).hasSize(1);
        assertThat(events("target.resumed")).hasSize(1);
        assertThat(api.post("/v1/targets/no-such-target/pause", "").status()).isEqualTo(404);
    }
}
