package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TestDatabase;
import dev.hourglass.store.postgres.TcpProxy;
import dev.hourglass.store.postgres.TcpProxy.Fault;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 5: a server on PostgreSQL loses its database under load and gets it back. The network to the real server is
 * cut by a {@link TcpProxy} (the server itself, which other tests use, is never touched): first a blackhole (a hung
 * network: nothing passes and nothing fails, the nasty case), then refused connections (a stopped server), each for
 * longer than the API's store timeout, while four clients schedule webhooks due over the next seconds.
 *
 * <p>What must hold: every schedule is answered 201 or 503 (problem+json, Retry-After) within a bound, never 500 and
 * never a hang; readiness reports the outage while liveness stays up; after each restore new schedules succeed
 * without a restart; every job answered 201 is delivered, none before its due time, none twice; and every job the
 * database holds (also one whose commit landed although its caller heard 503) ends SUCCEEDED: nothing is orphaned.
 */
class DatabaseOutageTest {
    private static final String URL = TestDatabase.URL;
    private static final String USER = TestDatabase.USER;
    private static final String PASSWORD = TestDatabase.PASSWORD;

    /** The API's wait for the store; shorter than the default 5 s so the outages (and the test) can be short. */
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(3);
    /** Every answer, 201 or 503, arrives within this; a hang would show as a longer wait, not a client timeout. */
    private static final Duration ANSWER_BOUND = Duration.ofSeconds(10);
    private static final Duration BLACKHOLE = Duration.ofSeconds(6);
    private static final Duration REFUSED = Duration.ofSeconds(5);
    private static final int CLIENTS = 4;

    @TempDir
    Path dir;

    private final String schema = "hg_outage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private TcpProxy proxy;
    private Receiver receiver;
    private ServerFixture api;

    /** One schedule call as the client saw it; times in ms since the test started (monotonic). */
    private record Call(String key, long startedMs, long tookMs, int status, String body, String retryAfter,
            String contentType, String error) {}

    /** When a fault was on, in ms since the test started. */
    private record Window(Fault fault, long fromMs, long toMs) {}

    @BeforeEach
    void start() {
        receiver = new Receiver();
        proxy = TcpProxy.forJdbcUrl(URL);
        PostgresOptions pg = PostgresOptions.of(proxy.jdbcUrl(URL), USER, PASSWORD).withPoolSize(4).withSchema(schema)
                .withConnectTimeout(Duration.ofSeconds(2)).withSocketTimeout(Duration.ofSeconds(3));
        api = ServerFixture.start(ServerFixture.config(dir).withPostgres(pg).withStoreTimeout(STORE_TIMEOUT));
    }

    @AfterEach
    void stop() throws SQLException {
        proxy.restore();
        receiver.close();
        if (api != null) {
            api.close();
        }
        proxy.close();
        http.close();
        TestDatabase.dropSchema(schema);
    }

    @Test
    @Timeout(90) // about 30 s: 17 s of load and outages, then the drain
    void schedulesAnswer503InBoundedTimeDuringAnOutageAndEveryAcknowledgedJobFiresAfterIt() throws Exception {
        long t0 = System.nanoTime();
        List<Call> calls = new CopyOnWriteArrayList<>();
        List<String> readiness = new CopyOnWriteArrayList<>();
        List<Thread> clients = new ArrayList<>();
        AtomicBoolean stopClients = new AtomicBoolean();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            clients.add(Thread.ofVirtual().name("client-" + c).start(() -> {
                for (int n = 0; !stopClients.get(); n++) {
                    calls.add(schedule("c" + client + "-" + n, t0));
                    sleep(40);
                }
            }));
        }
        Thread probe = Thread.ofVirtual().name("probe").start(() -> {
            while (!stopClients.get()) {
                readiness.add(msSince(t0) + " readyz=" + status("/readyz") + " healthz=" + status("/healthz"));
                sleep(250);
            }
        });

        List<Window> outages = new ArrayList<>();
        sleep(3_000);
        outages.add(outage(Fault.BLACKHOLE, BLACKHOLE, t0));
        sleep(3_000);
        outages.add(outage(Fault.REFUSE, REFUSED, t0));
        sleep(4_000);
        stopClients.set(true);
        for (Thread client : clients) {
            client.join(ANSWER_BOUND.toMillis() + 5_000);
        }
        probe.join(5_000);

        // The store is back: a new schedule succeeds (within the time the pool needs to reconnect).
        long restored = outages.getLast().toMs();
        await().atMost(Duration.ofSeconds(15)).until(() -> schedule("after", t0).status() == 201);

        // Every answer: 201 or a 503 problem with Retry-After, within the bound. No 500, no hang, no I/O error.
        Map<Integer, Long> byStatus = calls.stream().collect(Collectors.groupingBy(Call::status, TreeMap::new,
                Collectors.counting()));
        List<Call> bad = calls.stream().filter(c -> c.error() != null || (c.status() != 201 && c.status() != 503)
                || c.tookMs() >= ANSWER_BOUND.toMillis()).toList();
        assertThat(bad).as("answers other than 201/503 within %s", ANSWER_BOUND).isEmpty();
        for (Call c : calls) {
            if (c.status() == 503) {
                assertThat(c.contentType()).isEqualTo("application/problem+json");
                assertThat(c.retryAfter()).isEqualTo("1");
                assertThat(c.body()).contains("store-unavailable").doesNotContain("Exception");
            }
        }
        for (Window w : outages) {
            assertThat(calls).as("503s during the %s outage", w.fault())
                    .anyMatch(c -> c.status() == 503 && c.startedMs() >= w.fromMs() && c.startedMs() < w.toMs());
            assertThat(readiness).as("/readyz during the %s outage", w.fault()).anyMatch(line -> {
                long at = Long.parseLong(line.substring(0, line.indexOf(' ')));
                return at > w.fromMs() && at < w.toMs() && line.contains("readyz=503");
            });
        }
        assertThat(readiness).as("/healthz is liveness: up throughout").allMatch(line -> line.endsWith("healthz=200"));
        assertThat(calls).as("201s after the last restore, without a restart")
                .anyMatch(c -> c.status() == 201 && c.startedMs() > restored);

        // Every 201 is delivered after its due time, and exactly once.
        Map<String, Long> acknowledged = new HashMap<>();
        for (Call c : calls) {
            if (c.status() == 201) {
                JsonNode job = ServerFixture.JSON.readTree(c.body());
                acknowledged.put(job.get("id").asText(), Instant.parse(job.get("dueAt").asText()).toEpochMilli());
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> deliveredIds().containsAll(acknowledged.keySet()));
        List<String> early = new ArrayList<>();
        Map<String, Integer> deliveries = new HashMap<>();
        for (Delivery d : receiver.deliveries("/hook")) {
            String id = d.header("Hourglass-Job-Id");
            deliveries.merge(id, 1, Integer::sum);
            long due = Instant.parse(d.header("Hourglass-Due-At")).toEpochMilli();
            if (d.arrivedMillis() < due) {
                early.add(id + " arrived " + d.arrivedMillis() + " due " + due);
            }
        }
        assertThat(early).as("deliveries before the due time").isEmpty();
        assertThat(deliveries.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList())
                .as("jobs delivered twice").isEmpty();

        // Nothing orphaned: every job the database holds, acknowledged or not, ends SUCCEEDED.
        await().atMost(Duration.ofSeconds(30)).until(() -> unfinishedJobs().isEmpty());
        Map<String, String> stored = storedStates();
        assertThat(stored.keySet()).containsAll(acknowledged.keySet());

        System.out.printf("outage test: %d calls %s, max answer %d ms; %d jobs stored (%d acknowledged), all "
                        + "SUCCEEDED, %d deliveries; outages %s%n", calls.size(), byStatus,
                calls.stream().mapToLong(Call::tookMs).max().orElse(0), stored.size(), acknowledged.size(),
                receiver.deliveries("/hook").size(), outages);
    }

    private Window outage(Fault fault, Duration length, long t0) {
        long from = msSince(t0);
        proxy.cut(fault);
        sleep(length.toMillis());
        proxy.restore();
        return new Window(fault, from, msSince(t0));
    }

    private Call schedule(String key, long t0) {
        long runAt = System.currentTimeMillis() + ThreadLocalRandom.current().nextLong(200, 4_000);
        String json = "{\"runAt\": " + runAt + ", \"target\": {\"type\": \"webhook\", \"url\": \""
                + receiver.url("/hook") + "\"}, \"payload\": {\"key\": \"" + key + "\"}}";
        long started = System.nanoTime();
        long startedMs = msSince(t0);
        try {
            HttpResponse<String> r = http.send(ServerFixture.authorized(api.uri("/v1/jobs"))
                    .header("Content-Type", "application/json").header("Idempotency-Key", key)
                    .timeout(ANSWER_BOUND.plusSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
            return new Call(key, startedMs, msSince(started), r.statusCode(), r.body(),
                    r.headers().firstValue("Retry-After").orElse(null),
                    r.headers().firstValue("Content-Type").orElse(null), null);
        } catch (IOException | InterruptedException e) {
            return new Call(key, startedMs, msSince(started), -1, "", null, null, e.toString());
        }
    }

    private int status(String path) {
        try {
            return http.send(ServerFixture.authorized(api.uri(path)).timeout(ANSWER_BOUND).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private Set<String> deliveredIds() {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        receiver.deliveries("/hook").forEach(d -> ids.add(d.header("Hourglass-Job-Id")));
        return ids;
    }

    /** Read straight from the database, past the proxy. */
    private Map<String, String> storedStates() throws SQLException {
        Map<String, String> states = new HashMap<>();
        try (Connection c = direct(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, state FROM " + schema + ".jobs")) {
            while (rs.next()) {
                states.put(rs.getString(1), rs.getString(2));
            }
        }
        return states;
    }

    private List<String> unfinishedJobs() throws SQLException {
        return storedStates().entrySet().stream().filter(e -> !e.getValue().equals("SUCCEEDED"))
                .map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    private static Connection direct() throws SQLException {
        return TestDatabase.raw(null);
    }

    private static long msSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
