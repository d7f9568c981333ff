package dev.hourglass.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.ServerConfig;
import dev.hourglass.server.ServerKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The noisy neighbour over HTTP (issue 20): a real server on SQLite with two tenants. Tenant {@code default}
 * schedules {@code defaultJobs} webhooks due at one instant T to receiver A, which answers about {@code rate}
 * requests per second; tenant {@code beta} schedules {@code betaJobs} webhooks due at T + {@code betaOffset} to
 * receiver B, which answers at once. Each receiver is a {@link ThrottledReceiver} in a child JVM of its own (or both
 * in one with {@code sharedReceiver}), on loopback, so that they do not share this JVM with the server. Prints how
 * late beta's webhooks arrived at B (arrival minus due, on the wall clock both processes read), how long after its
 * due time each attempt started (the engine's {@code hourglass_fire_lateness_seconds}: due to start, the rest is the
 * HTTP send), how many of default's webhooks had not yet arrived at A when beta's last one arrived, default's drain
 * rate, and how often the kernel's accept queues overflowed meanwhile ({@link TcpCounters}). Ends by itself: gives up
 * {@link #GRACE} after the drain should have ended (twice its time at A's rate).
 */
final class HttpNoisyNeighbour {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN_KEY = "hgk_bench-admin-" + UUID.randomUUID();
    private static final String DEFAULT_KEY = "hgk_bench-default-" + UUID.randomUUID();
    /** Concurrent callers that schedule the jobs before T. */
    private static final int CALLERS = 64;
    /** Jobs scheduled first, due in an hour, to measure how fast this machine schedules over HTTP. */
    private static final int PILOT_JOBS = 1_000;
    /** How long after the drain should have ended (twice its time at A's rate) a run gives up. */
    private static final Duration GRACE = Duration.ofSeconds(30);

    /**
     * What one run does.
     *
     * @param plainReceivers receivers with the JDK {@code HttpServer}'s defaults (backlog 50, Nagle on, 200 idle
     *     connections kept) answering {@code 200} with a small body, rather than tuned ones answering {@code 204}
     * @param backlog the receivers' accept backlog; 0 for their default (4096, or the JDK's 50 when plain)
     */
    record Options(int defaultJobs, int betaJobs, int rate, Duration betaOffset, boolean sharedReceiver,
            boolean plainReceivers, int backlog) {}

    private HttpNoisyNeighbour() {}

    /**
     * {@code runs} runs, one after the other, each on a fresh server and store, to the same receivers (warmed up
     * first, as a receiver that has been up a while is). The first run is the server's first delivery in this JVM
     * (cold, as after a restart); the later ones run warm.
     */
    static void run(Report report, Path workDir, Options o, int runs) throws Exception {
        Arrivals arrivals = new Arrivals();
        List<Child> children = new ArrayList<>();
        try {
            URI urlA;
            URI urlB;
            if (o.sharedReceiver()) {
                Child both = receiver(arrivals, o, "a:" + o.rate(), "b:0");
                children.add(both);
                urlA = hook(both.ports[0], "/a");
                urlB = hook(both.ports[1], "/b");
            } else {
                Child a = receiver(arrivals, o, "a:" + o.rate());
                children.add(a);
                Child b = receiver(arrivals, o, "b:0");
                children.add(b);
                urlA = hook(a.ports[0], "/a");
                urlB = hook(b.ports[0], "/b");
            }
            warmUp(urlA);
            warmUp(urlB);
            for (int run = 1; run <= runs; run++) {
                arrivals.byReceiver.clear();
                Map<String, Object> figures = new LinkedHashMap<>();
                figures.put("run", run);
                Map<String, Long> before = TcpCounters.read();
                figures.putAll(measure(workDir, o, arrivals, urlA, urlB));
                figures.putAll(TcpCounters.since(before));
                report.result("noisy-http", figures);
            }
        } finally {
            children.forEach(Child::close);
        }
    }

    /** Sends a few thousand requests to a receiver's warm-up path (answered at once, not counted). */
    private static void warmUp(URI hook) throws Exception {
        URI warm = hook.resolve(ThrottledReceiver.WARM_UP);
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < 16; c++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 200; i++) {
                        try {
                            http.send(HttpRequest.newBuilder(warm).POST(HttpRequest.BodyPublishers.ofString("{}"))
                                    .build(), HttpResponse.BodyHandlers.discarding());
                        } catch (IOException e) {
                            return;
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    static Map<String, Object> measure(Path workDir, Options o, Arrivals arrivals, URI urlA, URI urlB)
            throws Exception {
        Path dir = BenchEngines.scratch(workDir, "noisy-http");
        try {
            try (HourglassServer server = HourglassServer.start(ServerConfig.defaults().withPort(0).withDataDir(dir)
                    .withWebhookAllowlist(WebhookDrain.LOOPBACK).withKeys(new ServerKeys(ADMIN_KEY, DEFAULT_KEY)));
                    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                URI base = server.baseUri();
                String betaKey = createTenant(http, base, "beta");
                // T far enough ahead to schedule every job over HTTP first: the schedule rate is measured on jobs
                // due in an hour (never in the timer: beyond the horizon), and T leaves half as much time again.
                long p0 = System.nanoTime();
                schedule(http, base, DEFAULT_KEY, PILOT_JOBS, Instant.now().plus(Duration.ofHours(1)), urlA);
                double perMilli = PILOT_JOBS / ((System.nanoTime() - p0) / 1e6);
                Instant t = Instant.now().plus(Duration.ofMillis(
                        2_000 + (long) (1.5 * (o.defaultJobs() + o.betaJobs()) / perMilli)));
                Instant tBeta = t.plus(o.betaOffset());
                long s0 = System.nanoTime();
                schedule(http, base, DEFAULT_KEY, o.defaultJobs(), t, urlA);
                schedule(http, base, betaKey, o.betaJobs(), tBeta, urlB);
                long scheduledMillis = (System.nanoTime() - s0) / 1_000_000;
                if (!Instant.now().isBefore(t.minusMillis(500))) {
                    throw new IllegalStateException("scheduling took " + scheduledMillis + " ms and ran into T: "
                            + "the figures would not show a burst");
                }
                Report.progress("noisy-http: %,d jobs of default due at %s to A (%d/s), %d of beta due %d ms "
                        + "later to B (%s); scheduled in %d ms", o.defaultJobs(), t, o.rate(), o.betaJobs(),
                        o.betaOffset().toMillis(), o.sharedReceiver() ? "same process as A" : "a process of its own",
                        scheduledMillis);
                Duration expected = Duration.ofMillis(o.defaultJobs() * 1000L / Math.max(1, o.rate()));
                Instant deadline = t.plus(expected.multipliedBy(2)).plus(GRACE);
                while ((arrivals.count("a") < o.defaultJobs() || arrivals.count("b") < o.betaJobs())
                        && Instant.now().isBefore(deadline)) {
                    Thread.sleep(100);
                }
                return figures(o, arrivals, t, server.meterRegistry().orElse(null));
            }
        } finally {
            BenchEngines.delete(dir);
        }
    }

    /** A receiver process, its ports (one per receiver it runs) and the deliveries it reported. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final int[] ports;

        Child(Process process, int[] ports) {
            this.process = process;
            this.ports = ports;
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    /** One delivery as a receiver saw it: wall-clock microseconds. */
    private record Arrival(long arrivedMicros, long dueMicros) {}

    /** Every delivery the receivers reported, by receiver name. */
    private static final class Arrivals {
        final Map<String, List<Arrival>> byReceiver = new ConcurrentHashMap<>();

        void add(String receiver, Arrival a) {
            byReceiver.computeIfAbsent(receiver, k -> new CopyOnWriteArrayList<>()).add(a);
        }

        int count(String receiver) {
            List<Arrival> l = byReceiver.get(receiver);
            return l == null ? 0 : l.size();
        }

        List<Arrival> of(String receiver) {
            return byReceiver.getOrDefault(receiver, List.of());
        }
    }


    private static URI hook(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static Map<String, Object> figures(Options o, Arrivals arrivals, Instant t, MeterRegistry registry) {
        long tMicros = t.toEpochMilli() * 1_000;
        List<Arrival> a = arrivals.of("a");
        List<Arrival> b = arrivals.of("b");
        long[] lateB = b.stream().mapToLong(x -> x.arrivedMicros() - x.dueMicros()).sorted().toArray();
        long[] lateA = a.stream().mapToLong(x -> x.arrivedMicros() - x.dueMicros()).sorted().toArray();
        long lastA = a.stream().mapToLong(Arrival::arrivedMicros).max().orElse(0);
        long lastB = b.stream().mapToLong(Arrival::arrivedMicros).max().orElse(0);
        long aBehindLastB = o.defaultJobs() - a.stream().filter(x -> x.arrivedMicros() <= lastB).count();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("receivers", (o.sharedReceiver() ? "one-process" : "two-processes")
                + (o.plainReceivers() ? "-plain" : "") + (o.backlog() > 0 ? "-backlog" + o.backlog() : ""));
        f.put("default_jobs", o.defaultJobs());
        f.put("a_rate", o.rate());
        f.put("beta_jobs", o.betaJobs());
        f.put("beta_offset_ms", o.betaOffset().toMillis());
        f.put("beta_arrived", lateB.length);
        f.put("beta_p50_ms", percentileMs(lateB, 0.50));
        f.put("beta_p99_ms", percentileMs(lateB, 0.99));
        f.put("beta_max_ms", percentileMs(lateB, 1.0));
        if (registry != null) {
            Timer started = registry.find("hourglass.fire.lateness").tag("tenant", "beta").timer();
            if (started != null) {
                f.put("beta_start_mean_ms", started.mean(TimeUnit.MICROSECONDS) / 1000.0);
                f.put("beta_start_max_ms", started.max(TimeUnit.MICROSECONDS) / 1000.0);
            }
        }
        f.put("default_left_at_beta_last", aBehindLastB);
        f.put("default_arrived", lateA.length);
        f.put("default_p50_ms", percentileMs(lateA, 0.50));
        f.put("default_max_ms", percentileMs(lateA, 1.0));
        f.put("default_per_s", lastA > tMicros ? a.size() * 1e6 / (lastA - tMicros) : 0.0);
        return f;
    }

    /** The p-th value of a sorted array of microseconds, in milliseconds (nearest rank); -1 if empty. */
    private static double percentileMs(long[] sortedMicros, double p) {
        if (sortedMicros.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(p * sortedMicros.length);
        return sortedMicros[Math.max(0, Math.min(sortedMicros.length - 1, rank - 1))] / 1000.0;
    }

    private static String createTenant(HttpClient http, URI base, String name) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/v1/admin/tenants"))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"" + name + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException("creating tenant " + name + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).get("apiKey").asText();
    }

    /** Schedules {@code count} webhooks due at {@code at} to {@code url}, {@link #CALLERS} at a time. */
    private static void schedule(HttpClient http, URI base, String key, int count, Instant at, URI url)
            throws InterruptedException {
        String runAt = Rfc3339.format(at);
        AtomicInteger next = new AtomicInteger();
        AtomicReference<String> failure = new AtomicReference<>();
        List<Thread> callers = new ArrayList<>();
        for (int c = 0; c < Math.min(CALLERS, count); c++) {
            callers.add(Thread.ofVirtual().start(() -> {
                int i;
                while ((i = next.getAndIncrement()) < count && failure.get() == null) {
                    String body = "{\"runAt\": \"" + runAt + "\", \"target\": {\"type\": \"webhook\", \"url\": \""
                            + url + "\"}, \"payload\": {\"n\": " + i + "}}";
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/v1/jobs"))
                                .header("Authorization", "Bearer " + key)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 201) {
                            failure.compareAndSet(null, r.statusCode() + " " + r.body());
                        }
                    } catch (IOException e) {
                        failure.compareAndSet(null, e.toString());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        for (Thread c : callers) {
            c.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("scheduling failed: " + failure.get());
        }
    }

    /** Starts a {@link ThrottledReceiver} child JVM running {@code specs} and reads its deliveries into arrivals. */
    private static Child receiver(Arrivals arrivals, Options o, String... specs) throws IOException {
        boolean plain = o.plainReceivers();
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC"));
        if (plain) {
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(ThrottledReceiver.class.getName());
            command.add("--plain");
        } else {
            command.addAll(List.of("-Dsun.net.httpserver.nodelay=true", "-Dsun.net.httpserver.maxIdleConnections=4096",
                    "-cp", System.getProperty("java.class.path"), ThrottledReceiver.class.getName()));
        }
        if (o.backlog() > 0) {
            command.add("--backlog=" + o.backlog());
        }
        command.addAll(Arrays.asList(specs));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("LISTENING ")) {
            p.destroyForcibly();
            throw new IllegalStateException("the receiver did not start: " + line);
        }
        int[] ports = Arrays.stream(line.substring("LISTENING ".length()).trim().split(" "))
                .mapToInt(Integer::parseInt).toArray();
        Thread.ofPlatform().daemon(true).name("noisy-http-receiver-" + specs[0]).start(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    String[] parts = l.split(" ");
                    if (parts.length >= 4 && parts[0].equals("D")) {
                        arrivals.add(parts[1], new Arrival(Long.parseLong(parts[2]), Long.parseLong(parts[3])));
                    }
                }
            } catch (IOException e) {
                // the child ended
            }
        });
        return new Child(p, ports);
    }
}
