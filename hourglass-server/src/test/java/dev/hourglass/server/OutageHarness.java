package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.postgres.TcpProxy;
import dev.hourglass.store.postgres.TcpProxy.Fault;
import dev.hourglass.store.postgres.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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

/**
 * What the database-outage tests share: server nodes on one PostgreSQL schema, each behind a {@link TcpProxy} of
 * its own (so that a fault can cut one node off, or all of them), a webhook receiver, clients that schedule webhooks
 * due over the next seconds through every node and record each answer, a probe of every node's readiness and
 * liveness, and the checks on what they saw.
 *
 * <p>Each delivery is matched, as it arrives, with the job's row read straight from the database (past the proxies):
 * while the receiver has not answered, the job is RUNNING, owned by the node that fired it ({@link Fired}).
 *
 * <p>Times: {@code ...Ms} are ms since the harness started (monotonic), for answer times and fault windows;
 * {@code ...Epoch...} are the wall clock, the clock of due times and delivery arrivals.
 */
final class OutageHarness implements AutoCloseable {
    /** The API's wait for the store; shorter than the default 5 s so the outages (and the tests) can be short. */
    static final Duration STORE_TIMEOUT = Duration.ofSeconds(3);
    /** Every answer, 201 or 503, arrives within this; a hang would show as a longer wait, not a client timeout. */
    static final Duration ANSWER_BOUND = Duration.ofSeconds(10);
    static final String HOOK = "/hook";
    /** The key prefix of {@link #awaitScheduling}'s calls, which are not the load's. */
    private static final String AFTER = "after-";
    /** The key prefix of jobs whose deliveries the receiver answers only after {@link #SLOW_REPLY}. */
    static final String SLOW = "slow-";
    /** Long enough for a job to be RUNNING when a fault starts a moment after its delivery arrived. */
    static final Duration SLOW_REPLY = Duration.ofMillis(1_500);

    /** One server node behind its own proxy. */
    record Node(String id, TcpProxy proxy, ServerFixture api) {}

    /** One schedule call as the client saw it. */
    record Call(String node, String key, long startedMs, long tookMs, int status, String body, String retryAfter,
            String contentType, String error) {}

    /** When a fault was on, and on which nodes. */
    record Window(Fault fault, List<String> nodes, long fromMs, long toMs, long fromEpochMs, long toEpochMs) {
        @Override
        public String toString() {
            return fault + " " + nodes + " +" + fromMs + "..+" + toMs + " ms (epoch " + fromEpochMs + ".."
                    + toEpochMs + ")";
        }
    }

    /** One probe of a node: /readyz and /healthz. */
    record Probe(String node, long atMs, int readyz, int healthz) {}

    /**
     * One delivery with the job's row as it was when the delivery arrived: its state, owner, fencing token and
     * updated_at (wall clock). While the receiver has not answered, the attempt's job is RUNNING, owned by the node
     * that fired it, and updated_at is when that node stamped the start; a row that is not RUNNING any more was
     * taken from the firing node meanwhile (rescued), and then who fired is unknown. Null fields: no row.
     */
    record Fired(String jobId, int attempt, long arrivedEpochMs, String state, String owner, Long token,
            Long updatedEpochMs) {
        /** The node that fired the attempt, or null if the row no longer says. */
        String firedBy() {
            return "RUNNING".equals(state) ? owner : null;
        }

        /** When the attempt's start was stamped, or null if the row no longer says. */
        Long startedEpochMs() {
            return "RUNNING".equals(state) ? updatedEpochMs : null;
        }

        @Override
        public String toString() {
            return (firedBy() != null ? firedBy() : "?(row " + state + " " + owner + ")") + "#" + attempt + "@"
                    + arrivedEpochMs + " token " + token;
        }
    }

    final String schema = "hg_outage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    final Receiver receiver = new Receiver();
    private final long t0 = System.nanoTime();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Node> nodes = new CopyOnWriteArrayList<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final List<Probe> probes = new CopyOnWriteArrayList<>();
    private final Map<String, Fired> fired = new ConcurrentHashMap<>(); // job id:attempt -> who fired it
    private final List<Thread> load = new ArrayList<>();
    private final AtomicBoolean stopLoad = new AtomicBoolean();
    private final Connection direct;

    OutageHarness() {
        try {
            direct = TestDatabase.raw(null);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        receiver.onArrival(this::recordFiring);
    }

    /** Starts a node on the shared schema behind a new proxy (one at a time: the first one migrates the schema). */
    Node startNode(Path dir, EngineConfig engine) {
        TcpProxy proxy = TcpProxy.forJdbcUrl(TestDatabase.URL);
        PostgresOptions pg = PostgresOptions.of(proxy.jdbcUrl(TestDatabase.URL), TestDatabase.USER,
                        TestDatabase.PASSWORD).withPoolSize(4).withSchema(schema)
                .withConnectTimeout(Duration.ofSeconds(2)).withSocketTimeout(Duration.ofSeconds(3));
        try {
            Node node = new Node(engine.nodeId(), proxy, ServerFixture.start(ServerFixture.config(dir)
                    .withEngine(engine).withPostgres(pg).withStoreTimeout(STORE_TIMEOUT)));
            nodes.add(node);
            return node;
        } catch (RuntimeException e) {
            proxy.close();
            throw e;
        }
    }

    /**
     * Starts {@code clientsPerNode} clients on every node, each scheduling a webhook due in 0.2 to 4 s every 40 ms
     * after its last answer, and a probe of every node's /readyz and /healthz every 250 ms.
     */
    void startLoad(int clientsPerNode) {
        for (Node node : nodes) {
            for (int c = 0; c < clientsPerNode; c++) {
                String client = node.id() + "-c" + c;
                load.add(Thread.ofVirtual().name(client).start(() -> {
                    for (int n = 0; !stopLoad.get(); n++) {
                        schedule(node, client + "-" + n, 200, 4_000);
                        sleep(40);
                    }
                }));
            }
        }
        load.add(Thread.ofVirtual().name("probe").start(() -> {
            while (!stopLoad.get()) {
                for (Node node : nodes) {
                    probes.add(new Probe(node.id(), nowMs(), status(node, "/readyz"), status(node, "/healthz")));
                }
                sleep(250);
            }
        }));
    }

    void stopLoad() throws InterruptedException {
        stopLoad.set(true);
        for (Thread thread : load) {
            thread.join(ANSWER_BOUND.toMillis() + 5_000);
        }
    }

    /** Cuts the network of {@code cut} as {@code fault} says for {@code length}, then mends it. */
    Window outage(Fault fault, Duration length, Node... cut) {
        return outage(fault, length, () -> {}, cut);
    }

    /** {@link #outage}, running {@code atCut} as soon as the network is cut (to look at the database then). */
    Window outage(Fault fault, Duration length, Runnable atCut, Node... cut) {
        long from = nowMs();
        long fromEpoch = System.currentTimeMillis();
        for (Node node : cut) {
            node.proxy().cut(fault);
        }
        atCut.run();
        sleep(length.toMillis());
        for (Node node : cut) {
            node.proxy().restore();
        }
        return new Window(fault, Arrays.stream(cut).map(Node::id).toList(), from, nowMs(), fromEpoch,
                System.currentTimeMillis());
    }

    /** Schedules a webhook through {@code node} due in {@code minDelayMs} to {@code maxDelayMs}. */
    Call schedule(Node node, String key, long minDelayMs, long maxDelayMs) {
        return scheduleAt(node, key,
                System.currentTimeMillis() + ThreadLocalRandom.current().nextLong(minDelayMs, maxDelayMs));
    }

    /**
     * Schedules a webhook through {@code node} due at {@code runAtEpochMs}; a key that starts with {@link #SLOW}
     * makes the receiver hold each of its deliveries for {@link #SLOW_REPLY} before answering.
     */
    Call scheduleAt(Node node, String key, long runAtEpochMs) {
        String json = "{\"runAt\": " + runAtEpochMs + ", \"target\": {\"type\": \"webhook\", \"url\": \""
                + receiver.url(HOOK) + "\"}, \"payload\": {\"key\": \"" + key + "\"}}";
        long started = System.nanoTime();
        long startedMs = nowMs();
        Call call;
        try {
            HttpResponse<String> r = ApiContract.check(http.send(ServerFixture.authorized(
                    node.api().uri("/v1/jobs"))
                    .header("Content-Type", "application/json").header("Idempotency-Key", key)
                    .timeout(ANSWER_BOUND.plusSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString()));
            call = new Call(node.id(), key, startedMs, msSince(started), r.statusCode(), r.body(),
                    r.headers().firstValue("Retry-After").orElse(null),
                    r.headers().firstValue("Content-Type").orElse(null), null);
        } catch (IOException | InterruptedException e) {
            call = new Call(node.id(), key, startedMs, msSince(started), -1, "", null, null, e.toString());
        }
        calls.add(call);
        return call;
    }

    /** Waits until {@code node} takes a new schedule again (without a restart); the pool may need to reconnect. */
    void awaitScheduling(Node node, Duration atMost) {
        await().atMost(atMost).until(() -> schedule(node, AFTER + UUID.randomUUID(), 200, 1_000).status() == 201);
    }

    private int status(Node node, String path) {
        try {
            return ApiContract.check(http.send(ServerFixture.authorized(node.api().uri(path)).timeout(ANSWER_BOUND)
                    .build(), HttpResponse.BodyHandlers.discarding())).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    List<Call> calls() {
        return List.copyOf(calls);
    }

    List<Call> calls(Node node) {
        return calls.stream().filter(c -> c.node().equals(node.id())).toList();
    }

    /**
     * Every answer: 201, or a 503 problem with Retry-After, within {@link #ANSWER_BOUND}. No 500, no hang, no I/O
     * error.
     */
    void assertAnswersBounded() {
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
    }

    /**
     * During each window {@code node} answered schedules 503 and reported not ready; it stayed live throughout; and
     * after the last window it took schedules again.
     */
    void assertOutagesSeenBy(Node node, List<Window> windows) {
        List<Call> mine = calls(node).stream().filter(c -> !c.key().startsWith(AFTER)).toList(); // the load's
        List<Probe> probed = probes.stream().filter(p -> p.node().equals(node.id())).toList();
        for (Window w : windows) {
            // A call in flight during the window counts, whenever it began: one sent a few ms before the cut waits
            // out the whole window, and with it every load thread may be in such a call when the cut comes.
            assertThat(mine).as("%s: 503s during the %s outage", node.id(), w.fault())
                    .anyMatch(c -> c.status() == 503 && c.startedMs() < w.toMs()
                            && c.startedMs() + c.tookMs() > w.fromMs());
            assertThat(probed).as("%s: /readyz during the %s outage", node.id(), w.fault())
                    .anyMatch(p -> p.atMs() > w.fromMs() && p.atMs() < w.toMs() && p.readyz() == 503);
        }
        assertThat(probed).as("%s: /healthz is liveness: up throughout", node.id()).isNotEmpty()
                .allMatch(p -> p.healthz() == 200);
        long restored = windows.getLast().toMs();
        assertThat(mine).as("%s: 201s after the last restore, without a restart", node.id())
                .anyMatch(c -> c.status() == 201 && c.startedMs() > restored);
    }

    /** The jobs answered 201 (by {@code node}, or by any when null): id -> due time (epoch ms). */
    Map<String, Long> acknowledged(Node node) {
        Map<String, Long> acknowledged = new HashMap<>();
        for (Call c : calls) {
            if (c.status() == 201 && (node == null || c.node().equals(node.id()))) {
                JsonNode job = json(c.body());
                acknowledged.put(job.get("id").asText(), Instant.parse(job.get("dueAt").asText()).toEpochMilli());
            }
        }
        return acknowledged;
    }

    Map<String, Long> acknowledged() {
        return acknowledged(null);
    }

    /** Answer counts by status, and the longest answer, for the report. */
    String answerSummary(Node node) {
        List<Call> mine = calls(node);
        Map<Integer, Long> byStatus = mine.stream().collect(Collectors.groupingBy(Call::status, TreeMap::new,
                Collectors.counting()));
        return node.id() + " " + mine.size() + " calls " + byStatus + " max answer "
                + mine.stream().mapToLong(Call::tookMs).max().orElse(0) + " ms";
    }

    List<Delivery> deliveries() {
        return receiver.deliveries(HOOK);
    }

    Set<String> deliveredIds() {
        return deliveries().stream().map(d -> d.header("Hourglass-Job-Id")).collect(Collectors.toSet());
    }

    /** Waits until every one of {@code ids} was delivered (the assertions after it name what is missing). */
    /**
     * The checks every outage scenario ends with: every job answered 201 is delivered, none before its due time, and
     * every job the database holds (acknowledged or not: a commit can land for a caller that heard 503) ends
     * SUCCEEDED, so nothing is orphaned. Returns the acknowledged jobs (id to due time, epoch ms) and the stored ones.
     */
    Settled assertAcknowledgedDeliveredAndAllSucceeded() {
        Map<String, Long> acknowledged = acknowledged();
        awaitDelivered(acknowledged.keySet(), Duration.ofSeconds(30));
        assertThat(deliveredIds()).as(() -> "acknowledged jobs delivered; rows of the missing ones: "
                + describeRows(missing(acknowledged.keySet()))).containsAll(acknowledged.keySet());
        assertThat(earlyDeliveries()).as("deliveries before the due time").isEmpty();
        Map<String, String> stored = awaitAllSucceeded(Duration.ofSeconds(30));
        assertThat(stored.keySet()).containsAll(acknowledged.keySet());
        return new Settled(acknowledged, stored);
    }

    /** What {@link #assertAcknowledgedDeliveredAndAllSucceeded} found: acknowledged and stored jobs. */
    record Settled(Map<String, Long> acknowledged, Map<String, String> stored) {}

    void awaitDelivered(Set<String> ids, Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(200)).until(() -> deliveredIds().containsAll(ids));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // the assertions name what is missing
        }
    }

    /** Those of {@code ids} not delivered. */
    List<String> missing(Set<String> ids) {
        Set<String> delivered = deliveredIds();
        return ids.stream().filter(id -> !delivered.contains(id)).sorted().toList();
    }

    /** Deliveries that arrived before the due time they carry. */
    List<String> earlyDeliveries() {
        List<String> early = new ArrayList<>();
        for (Delivery d : deliveries()) {
            long due = Instant.parse(d.header("Hourglass-Due-At")).toEpochMilli();
            if (d.arrivedMillis() < due) {
                early.add(d.header("Hourglass-Job-Id") + " arrived " + d.arrivedMillis() + " due " + due);
            }
        }
        return early;
    }

    /** Deliveries per job. */
    Map<String, Integer> deliveryCounts() {
        Map<String, Integer> counts = new HashMap<>();
        deliveries().forEach(d -> counts.merge(d.header("Hourglass-Job-Id"), 1, Integer::sum));
        return counts;
    }

    List<String> duplicated() {
        return deliveryCounts().entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).sorted()
                .toList();
    }

    /** The first arrival of each delivered job (epoch ms). */
    Map<String, Long> firstArrivals() {
        return deliveries().stream().collect(Collectors.toMap(d -> d.header("Hourglass-Job-Id"),
                Delivery::arrivedMillis, Math::min));
    }

    /** Who fired each attempt, in arrival order. */
    List<Fired> firings() {
        return fired.values().stream().sorted(java.util.Comparator.comparingLong(Fired::arrivedEpochMs)).toList();
    }

    List<Fired> firings(String jobId) {
        return firings().stream().filter(f -> f.jobId().equals(jobId)).toList();
    }

    private void recordFiring(Delivery d) {
        String id = d.header("Hourglass-Job-Id");
        int attempt = Integer.parseInt(d.header("Hourglass-Attempt"));
        Fired f = new Fired(id, attempt, d.arrivedMillis(), null, null, null, null);
        synchronized (direct) {
            try (PreparedStatement s = direct.prepareStatement("SELECT state, owner, token, updated_at FROM "
                    + schema + ".jobs WHERE id = ?::uuid")) {
                s.setString(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        f = new Fired(id, attempt, d.arrivedMillis(), rs.getString(1), rs.getString(2),
                                rs.getLong(3), rs.getLong(4));
                    }
                }
            } catch (SQLException e) {
                // left unknown: the assertions that need the owner say so
            }
        }
        fired.put(id + ":" + attempt, f);
        if (d.body().contains("\"key\": \"" + SLOW) || d.body().contains("\"key\":\"" + SLOW)) {
            sleep(SLOW_REPLY.toMillis());
        }
    }

    /** The rows of {@code ids} (state, owner, token, due, updated), for failure messages. */
    String describeRows(java.util.Collection<String> ids) {
        if (ids.isEmpty()) {
            return "none";
        }
        String in = ids.stream().map(id -> "'" + id + "'").collect(Collectors.joining(","));
        return query("SELECT id, state || ' owner=' || coalesce(owner, '-') || ' token=' || token || ' due=' || due_at "
                + "|| ' updated=' || updated_at || ' attempts=' || attempts FROM " + schema + ".jobs WHERE id IN ("
                + in + ")").toString();
    }

    /** Every job's state, read straight from the database, past the proxies. */
    Map<String, String> storedStates() {
        return query("SELECT id, state FROM " + schema + ".jobs");
    }

    /** id -> fencing token of the jobs in {@code state} that {@code node} holds now, read past the proxies. */
    Map<String, Long> heldBy(Node node, String state) {
        Map<String, Long> held = new HashMap<>();
        query("SELECT id, token FROM " + schema + ".jobs WHERE state = '" + state + "' AND owner = '" + node.id()
                + "'").forEach((id, token) -> held.put(id, Long.parseLong(token)));
        return held;
    }

    /** Waits until every job in the database (acknowledged or not) is SUCCEEDED; returns the states then. */
    Map<String, String> awaitAllSucceeded(Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(250)).until(() -> storedStates().values().stream()
                .allMatch("SUCCEEDED"::equals));
        return storedStates();
    }

    private Map<String, String> query(String sql) {
        Map<String, String> rows = new HashMap<>();
        synchronized (direct) {
            try (Statement s = direct.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    rows.put(rs.getString(1), rs.getString(2));
                }
            } catch (SQLException e) {
                throw new IllegalStateException(sql, e);
            }
        }
        return rows;
    }

    long nowMs() {
        return msSince(t0);
    }

    static long msSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static JsonNode json(String body) {
        try {
            return ServerFixture.JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws Exception {
        stopLoad.set(true);
        for (Node node : nodes) {
            node.proxy().restore();
        }
        receiver.close();
        for (Node node : nodes) {
            node.api().close();
            node.proxy().close();
        }
        http.close();
        synchronized (direct) {
            direct.close();
        }
        TestDatabase.dropSchema(schema);
    }
}
