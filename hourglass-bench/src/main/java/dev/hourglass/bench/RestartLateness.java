package dev.hourglass.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;

/**
 * A server killed with SIGKILL under steady load and restarted at once on the same data directory (SQLite, the
 * default store), as a supervisor would: how late are the jobs due after it is back? The server runs in a child
 * process; this process is the load (schedules due in 1 to 6 s, a tenth of them cancelled and a tenth rescheduled
 * soon after) and the webhook receiver. Schedules refused while the server is down are not retried (no answer, no
 * promise); a cancel or reschedule left without an answer makes its job uncertain, left out of the figures.
 *
 * <p>Figures, from the receiver's clock (the machine's: both processes share it): the time from the kill until
 * {@code /healthz} answers 200 (alive), until {@code /readyz} does (ready: caught up) and until the first job due
 * after the kill fires on time (within 100 ms); and the lateness of the jobs due before the kill (baseline), while the
 * server was down (they fire at once on restart), from 2 s after alive on (what a harness that waits for liveness
 * sees), in the first 2 s after ready, and from 2 s after ready on: the last is what a restart should not disturb.
 */
final class RestartLateness {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String API_KEY = "restart-bench-key-0123456789";
    private static final long ON_TIME_MS = 100;
    /**
     * The receiver: a Node.js process of its own (as the services a scheduler calls are), recording each job's first
     * arrival on its clock, which is this machine's; {@code GET /arrivals} lists them.
     */
    private static final String RECEIVER = """
            const http = require('http');
            const first = new Map();
            let duplicates = 0;
            const server = http.createServer((req, res) => {
              if (req.method === 'GET') {
                let out = 'duplicates ' + duplicates + '\\n';
                for (const [id, at] of first) out += id + ' ' + at + '\\n';
                res.writeHead(200, {'Content-Type': 'text/plain'});
                res.end(out);
                return;
              }
              const at = Date.now();
              const id = req.headers['hourglass-job-id'];
              req.resume();
              req.on('end', () => {
                if (id) { if (first.has(id)) duplicates++; else first.set(id, at); }
                res.writeHead(204); res.end();
              });
            });
            server.keepAliveTimeout = 60000;
            server.listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port));
            """;

    private final Path dir;
    private final int rate;
    private final Duration beforeKill;
    private final Duration afterReady;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1).build();
    /** Job id to its due time (epoch ms), as last acknowledged. */
    private final Map<String, Long> dueAt = new ConcurrentHashMap<>();
    private final Set<String> uncertain = ConcurrentHashMap.newKeySet();
    /** Job id to the first arrival at the receiver (epoch ms). */
    private final Map<String, Long> arrivals = new ConcurrentHashMap<>();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger duplicates = new AtomicInteger();
    private String receiverBase;

    private RestartLateness(Path dir, int rate, Duration beforeKill, Duration afterReady) throws IOException {
        this.dir = dir;
        this.rate = rate;
        this.beforeKill = beforeKill;
        this.afterReady = afterReady;
        try (ServerSocket probe = new ServerSocket(0)) {
            this.port = probe.getLocalPort();
        }
    }

    static void run(Report report, Path workDir, int rate, Duration beforeKill, Duration afterReady)
            throws Exception {
        Path dir = BenchEngines.scratch(workDir, "restart");
        try {
            new RestartLateness(dir, rate, beforeKill, afterReady).measure(report);
        } finally {
            if (System.getenv("HOURGLASS_BENCH_KEEP") == null) {
                BenchEngines.delete(dir);
            }
        }
    }

    private void measure(Report report) throws Exception {
        Path script = dir.resolve("receiver.js");
        Files.writeString(script, RECEIVER, StandardCharsets.UTF_8);
        Path nodeBinary = HttpThroughput.findOnPath("node");
        if (nodeBinary == null) {
            throw new IllegalStateException("the restart scenario needs Node.js (node) on the PATH for its receiver");
        }
        Process receiver = new ProcessBuilder(nodeBinary.toString(), script.toString()).redirectErrorStream(true)
                .start();
        String listening = new BufferedReader(new InputStreamReader(receiver.getInputStream(),
                StandardCharsets.UTF_8)).readLine();
        if (listening == null || !listening.startsWith("LISTENING ")) {
            receiver.destroyForcibly();
            throw new IllegalStateException("the Node.js receiver did not start: " + listening);
        }
        receiverBase = "http://127.0.0.1:" + listening.substring("LISTENING ".length()).trim();
        String hook = receiverBase + "/hook";
        Process server = startServer("first");
        ExecutorService load = Executors.newVirtualThreadPerTaskExecutor();
        try {
            await("/readyz", Duration.ofSeconds(60));
            Report.progress("restart: server up on port %d; load %d schedules/s for %d s, then kill -9", port, rate,
                    beforeKill.toSeconds());
            long started = System.currentTimeMillis();
            Thread loader = Thread.ofPlatform().name("restart-load").start(() -> drive(load, hook));
            Thread.sleep(beforeKill.toMillis());
            long killedAt = System.currentTimeMillis();
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
            server = startServer("restarted");
            await("/healthz", Duration.ofSeconds(60));
            long aliveAt = System.currentTimeMillis();
            await("/readyz", Duration.ofSeconds(90));
            long readyAt = System.currentTimeMillis();
            Report.progress("restart: alive (/healthz) %d ms and ready (/readyz) %d ms after the kill; load goes on "
                    + "for %d s", aliveAt - killedAt, readyAt - killedAt, afterReady.toSeconds());
            Thread.sleep(afterReady.toMillis());
            loader.interrupt();
            loader.join();
            load.shutdown();
            load.awaitTermination(30, TimeUnit.SECONDS);
            long lastDue = dueAt.values().stream().mapToLong(Long::longValue).max().orElse(readyAt);
            long deadline = lastDue + 15_000;
            while (System.currentTimeMillis() < deadline && !allDelivered()) {
                Thread.sleep(500);
            }
            fetchArrivals();
            printTimeline(readyAt);
            report.result("restart", figures(started, killedAt, aliveAt, readyAt));
        } finally {
            load.shutdownNow();
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
            receiver.destroyForcibly();
        }
    }

    private Process startServer(String name) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = List.of(java, "-XX:+UseZGC", "-Xmx1g", "-XX:+ExitOnOutOfMemoryError",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                "dev.hourglass.server.cli.Main", "server", "--port", Integer.toString(port), "--data",
                dir.resolve("data").toString());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        builder.environment().put("HOURGLASS_DEFAULT_API_KEY", API_KEY);
        builder.environment().put("HOURGLASS_WEBHOOK_ALLOWLIST", "127.0.0.0/8");
        return builder.start();
    }

    /** Polls {@code path} every 5 ms until it answers 200. */
    private void await(String path, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(api(path))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("the server did not answer " + path + " 200 within " + within + "; see "
                + dir);
    }

    /** Until interrupted: {@link #rate} schedules a second, each followed now and then by a cancel or reschedule. */
    private void drive(ExecutorService load, String hook) {
        long intervalNanos = 1_000_000_000L / rate;
        long next = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
            next += intervalNanos;
            load.submit(() -> scheduleOne(hook));
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void scheduleOne(String hook) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long runAt = System.currentTimeMillis() + random.nextLong(1_000, 6_000);
        String body = "{\"runAt\": " + runAt + ", \"target\": {\"type\": \"webhook\", \"url\": \"" + hook
                + "\"}, \"payload\": {}}";
        JsonNode job = call("POST", "/v1/jobs", body, 201);
        if (job == null) {
            refused.incrementAndGet();
            return;
        }
        String id = job.get("id").asText();
        dueAt.put(id, Instant.parse(job.get("dueAt").asText()).toEpochMilli());
        int dice = random.nextInt(10);
        if (dice > 1) {
            return;
        }
        try {
            Thread.sleep(random.nextLong(50, 500));
        } catch (InterruptedException e) {
            return;
        }
        if (dice == 0) {
            uncertain.add(id); // until the answer says
            JsonNode cancelled = call("DELETE", "/v1/jobs/" + id, null, 200);
            if (cancelled != null) {
                dueAt.remove(id);
                uncertain.remove(id);
            } else if (lastStatus.get() == 409) {
                uncertain.remove(id); // it fired or runs: not cancelled
            }
        } else {
            long newRunAt = System.currentTimeMillis() + random.nextLong(1_000, 6_000);
            uncertain.add(id);
            JsonNode moved = call("POST", "/v1/jobs/" + id + "/reschedule", "{\"runAt\": " + newRunAt + "}", 200);
            if (moved != null) {
                dueAt.put(id, Instant.parse(moved.get("dueAt").asText()).toEpochMilli());
                uncertain.remove(id);
            } else if (lastStatus.get() == 409) {
                uncertain.remove(id);
            }
        }
    }

    /** The status of this thread's last call, 0 when it got no answer. */
    private final ThreadLocal<Integer> lastStatus = ThreadLocal.withInitial(() -> 0);

    /** The JSON answer if the status is {@code expected}; null otherwise (no answer, or another status). */
    private JsonNode call(String method, String path, String body, int expected) {
        lastStatus.set(0);
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(api(path)).timeout(Duration.ofSeconds(10))
                    .header("Authorization", "Bearer " + API_KEY);
            if (body != null) {
                request.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(body));
            } else {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            lastStatus.set(r.statusCode());
            return r.statusCode() == expected ? JSON.readTree(r.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Copies the receiver's record of first arrivals into {@link #arrivals}. */
    private void fetchArrivals() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(receiverBase + "/arrivals"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            String[] parts = line.split(" ");
            if (parts.length != 2) {
                continue;
            }
            if (parts[0].equals("duplicates")) {
                duplicates.set(Integer.parseInt(parts[1]));
            } else {
                arrivals.put(parts[0], Long.parseLong(parts[1]));
            }
        }
    }

    private URI api(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private boolean allDelivered() throws IOException, InterruptedException {
        fetchArrivals();
        for (String id : dueAt.keySet()) {
            if (!uncertain.contains(id) && !arrivals.containsKey(id)) {
                return false;
            }
        }
        return true;
    }

    private Map<String, Object> figures(long started, long killedAt, long aliveAt, long readyAt) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("rate_per_s", rate);
        f.put("kill_to_alive_ms", aliveAt - killedAt);
        f.put("kill_to_ready_ms", readyAt - killedAt);
        long firstOnTime = Long.MAX_VALUE;
        int missing = 0;
        int early = 0;
        for (Map.Entry<String, Long> e : dueAt.entrySet()) {
            if (uncertain.contains(e.getKey())) {
                continue;
            }
            Long arrived = arrivals.get(e.getKey());
            if (arrived == null) {
                missing++;
                continue;
            }
            if (arrived < e.getValue()) {
                early++;
            }
            if (e.getValue() >= killedAt && arrived - e.getValue() <= ON_TIME_MS && arrived < firstOnTime) {
                firstOnTime = arrived;
            }
        }
        f.put("kill_to_first_on_time_fire_ms", firstOnTime == Long.MAX_VALUE ? "none" : firstOnTime - killedAt);
        putLateness(f, "before_kill", due -> due >= started + 3_000 && due < killedAt);
        putLateness(f, "due_while_down", due -> due >= killedAt && due < readyAt);
        putLateness(f, "from_2s_after_alive", due -> due >= aliveAt + 2_000);
        putLateness(f, "first_2s_after_ready", due -> due >= readyAt && due < readyAt + 2_000);
        putLateness(f, "from_2s_after_ready", due -> due >= readyAt + 2_000);
        f.put("acknowledged", dueAt.size());
        f.put("uncertain", uncertain.size());
        f.put("refused_while_down", refused.get());
        f.put("missing", missing);
        f.put("early", early);
        f.put("duplicates", duplicates.get());
        return f;
    }

    /** Lateness by due time, in half seconds from ready: where a restart's delay ends. */
    private void printTimeline(long readyAt) {
        for (long from = -6_000; from < 8_000; from += 500) {
            long lo = readyAt + from;
            long hi = lo + 500;
            long[] late = dueAt.entrySet().stream()
                    .filter(e -> !uncertain.contains(e.getKey()) && arrivals.containsKey(e.getKey())
                            && e.getValue() >= lo && e.getValue() < hi)
                    .mapToLong(e -> arrivals.get(e.getKey()) - e.getValue()).sorted().toArray();
            if (late.length > 0) {
                Report.progress("restart: due at ready%+6d ms: n=%4d p50=%5d ms max=%5d ms", from, late.length,
                        percentile(late, 0.5), late[late.length - 1]);
            }
        }
    }

    private void putLateness(Map<String, Object> f, String name, LongPredicate dueIn) {
        List<Long> late = new ArrayList<>();
        for (Map.Entry<String, Long> e : dueAt.entrySet()) {
            Long arrived = arrivals.get(e.getKey());
            if (arrived != null && !uncertain.contains(e.getKey()) && dueIn.test(e.getValue())) {
                late.add(arrived - e.getValue());
            }
        }
        long[] sorted = late.stream().mapToLong(Long::longValue).sorted().toArray();
        f.put(name + "_n", sorted.length);
        if (sorted.length == 0) {
            return;
        }
        f.put(name + "_p50_ms", percentile(sorted, 0.50));
        f.put(name + "_p99_ms", percentile(sorted, 0.99));
        f.put(name + "_max_ms", sorted[sorted.length - 1]);
    }

    private static long percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    /** Runs it alone: {@code RestartLateness DIR [RATE [BEFORE_KILL_S [AFTER_READY_S]]]}. */
    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "/tmp/hourglass-restart"));
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Duration before = Duration.ofSeconds(args.length > 2 ? Long.parseLong(args[2]) : 15);
        Duration after = Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3]) : 20);
        Report report = new Report();
        run(report, dir, rate, before, after);
        report.printSummary();
    }
}
