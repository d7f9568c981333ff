package dev.hourglass.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.server.ApiContract;
import dev.hourglass.server.Receiver;
import dev.hourglass.server.ServerFixture;
import dev.hourglass.store.postgres.TestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recurring schedules across real processes: three server nodes on one PostgreSQL schema, schedules every second
 * created through one node, one node killed with SIGKILL mid-way. Every run whose nominal time fell in the window
 * is delivered, none before its nominal time, each once but for the runs in flight around the kill (at least once
 * allows those a second delivery).
 */
class RecurringOnClusterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOOK = "/recurring";
    private static final int SCHEDULES = 3;

    @TempDir
    Path dir;

    private final String schema = "hg_recur_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<ClusterNode> nodes = new ArrayList<>();
    private Receiver receiver;

    @BeforeEach
    void startCluster() throws IOException {
        receiver = new Receiver();
        for (int i = 1; i <= 3; i++) {
            nodes.add(ClusterNode.start("node-" + i, dir, TestDatabase.URL, TestDatabase.USER, TestDatabase.PASSWORD,
                    schema));
        }
    }

    @AfterEach
    void stopCluster() throws SQLException {
        nodes.forEach(ClusterNode::close);
        if (receiver != null) {
            receiver.close();
        }
        TestDatabase.dropSchema(schema);
    }

    @Test
    void everyRunIsDeliveredOnceAndNeverEarlyThroughANodesDeath() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < SCHEDULES; i++) {
            JsonNode created = send(nodes.get(i % nodes.size()), "POST", "/v1/schedules", "{\"name\": \"tick-" + i
                    + "\", \"every\": \"PT1S\", \"target\": {\"type\": \"webhook\", \"url\": \""
                    + receiver.url(HOOK) + "\"}}", 201);
            ids.add(created.get("id").asText());
        }
        Instant start = Instant.now();
        Thread.sleep(5_000);
        ClusterNode victim = nodes.get(1);
        Instant killedAt = Instant.now();
        victim.kill();
        Thread.sleep(9_000);
        Instant end = Instant.now();
        for (String id : ids) {
            send(nodes.getFirst(), "DELETE", "/v1/schedules/" + id, null, 200);
        }
        // Runs due up to the end may still be on their way (a rescued claim fires within seconds).
        Thread.sleep(EngineConfig.DEFAULT_LEASE_TTL.toMillis() / 2 + 2_000);

        List<Receiver.Delivery> deliveries = receiver.deliveries(HOOK);
        for (String id : ids) {
            Map<Instant, Long> perRun = deliveries.stream()
                    .filter(d -> id.equals(d.header("Hourglass-Schedule-Id")))
                    .collect(Collectors.groupingBy(d -> Instant.parse(d.header("Hourglass-Scheduled-Time")),
                            TreeMap::new, Collectors.counting()));
            assertThat(perRun).as("schedule %s delivered runs", id).isNotEmpty();
            Instant first = perRun.keySet().iterator().next();
            // Every second from the first run to the end of the window: none missing.
            List<Instant> missing = new ArrayList<>();
            for (Instant t = first; !t.isAfter(end.minusSeconds(1)); t = t.plusSeconds(1)) {
                if (!perRun.containsKey(t)) {
                    missing.add(t);
                }
            }
            assertThat(missing).as("runs of %s never delivered (killed at %s; logs:\n%s)", id, killedAt, logs())
                    .isEmpty();
            List<Instant> twice = perRun.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                    .toList();
            assertThat(twice).as("runs delivered more than once: only those in flight at the kill").allSatisfy(t ->
                    assertThat(t).isBetween(killedAt.minusSeconds(2), killedAt.plus(
                            EngineConfig.DEFAULT_LEASE_TTL)));
            assertThat(first).isAfterOrEqualTo(start.minusSeconds(10));
        }
        assertThat(deliveries).as("never before the time the schedule named").allSatisfy(d ->
                assertThat(d.arrivedMillis()).isGreaterThanOrEqualTo(
                        Instant.parse(d.header("Hourglass-Scheduled-Time")).toEpochMilli()));
        System.out.printf("recurring on a cluster: %d schedules every second, %s killed at +%d ms, %d deliveries%n",
                SCHEDULES, victim.id(), Duration.between(start, killedAt).toMillis(), deliveries.size());
    }

    private JsonNode send(ClusterNode node, String method, String path, String body, int expected)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = ServerFixture.authorized(URI.create(node.base() + path.substring(1)))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        HttpResponse<String> response = ApiContract.check(http.send(request.build(),
                HttpResponse.BodyHandlers.ofString()));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(expected);
        return JSON.readTree(response.body());
    }

    private String logs() {
        return nodes.stream().map(n -> n.id() + ":\n" + n.logTail()).collect(Collectors.joining("\n"));
    }
}
