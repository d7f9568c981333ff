package dev.hourglass.bench;

import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.ServerConfig;
import dev.hourglass.server.ServerKeys;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S1 over HTTP: N keep-alive connections POST /v1/jobs in a loop; every 201 means the job is on disk. The load
 * generator shares the two cores with the server, so the figure is a lower bound. When {@code wrk} is on the PATH it
 * generates the load (C, a small fraction of a core); otherwise the JDK's HttpClient does, which costs the server
 * much of its CPU. The RESULT line says which.
 */
final class HttpThroughput {
    private static final String BODY = "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", \"url\": "
            + "\"http://127.0.0.1:9/never\"}, \"payload\": {\"to\": \"user@example.com\", \"n\": 1}}";
    private static final Duration WARMUP = Duration.ofSeconds(3);

    /** The default tenant's key for this run (preset, as HOURGLASS_DEFAULT_API_KEY does). */
    private static final String API_KEY = "hgk_bench-" + java.util.UUID.randomUUID();

    private HttpThroughput() {}

    static void run(Report report, Path workDir, int connections, Duration duration) throws Exception {
        report.result("schedule-http", measure(workDir, connections, duration, config -> config, server -> { }));
    }

    /**
     * One S1-over-HTTP measurement on a fresh store: the server as {@code tweak} configures it, {@code during}
     * started beside the load (a scraper, say) and stopped with it.
     */
    static Map<String, Object> measure(Path workDir, int connections, Duration duration,
            UnaryOperator<ServerConfig> tweak, Consumer<HourglassServer> during) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "http-" + connections);
        // The jobs' target is on loopback (never called: due in an hour), refused unless allowlisted explicitly.
        try (HourglassServer server = HourglassServer.start(tweak.apply(ServerConfig.defaults().withPort(0)
                .withDataDir(dir).withWebhookAllowlist(WebhookDrain.LOOPBACK)
                .withKeys(new ServerKeys(null, API_KEY))))) {
            URI jobs = server.baseUri().resolve("/v1/jobs");
            Path wrk = findOnPath("wrk");
            during.accept(server);
            return wrk != null
                    ? withWrk(wrk, dir, jobs, connections, duration)
                    : withJdkClient(jobs, connections, duration);
        } finally {
            BenchEngines.delete(dir);
        }
    }

    private static Map<String, Object> withWrk(Path wrk, Path dir, URI jobs, int connections, Duration duration)
            throws IOException, InterruptedException {
        Path script = dir.resolve("post.lua");
        Files.writeString(script, "wrk.method = \"POST\"\nwrk.body = '" + BODY + "'\n"
                + "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
                + "wrk.headers[\"Authorization\"] = \"Bearer " + API_KEY + "\"\n"
                + "done = function(summary, latency, requests)\n"
                + "  io.write(string.format(\"HG %d %d %d %d %d %d %d\\n\", summary.requests, summary.duration,"
                + " summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write"
                + " + summary.errors.timeout, latency:percentile(50), latency:percentile(99),"
                + " latency:percentile(99.9), latency.max))\nend\n", StandardCharsets.UTF_8);
        int threads = Math.min(2, connections);
        runWrk(wrk, script, jobs, threads, connections, WARMUP);
        Report.progress("http %d connections: warmed up, measuring %d s with wrk", connections, duration.toSeconds());
        String out = runWrk(wrk, script, jobs, threads, connections, duration);
        Matcher m = Pattern.compile("HG (\\d+) (\\d+) (\\d+) (\\d+) (\\d+) (\\d+) (\\d+)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("unexpected wrk output: " + out);
        }
        long requests = Long.parseLong(m.group(1));
        double seconds = Long.parseLong(m.group(2)) / 1e6;
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("generator", "wrk");
        figures.put("connections", connections);
        figures.put("jobs", requests);
        figures.put("errors", Long.parseLong(m.group(3)));
        figures.put("per_s", requests / seconds);
        figures.put("latency_p50_ms", Long.parseLong(m.group(4)) / 1000.0);
        figures.put("latency_p99_ms", Long.parseLong(m.group(5)) / 1000.0);
        figures.put("latency_p99.9_ms", Long.parseLong(m.group(6)) / 1000.0);
        figures.put("latency_max_ms", Long.parseLong(m.group(7)) / 1000.0);
        return figures;
    }

    private static String runWrk(Path wrk, Path script, URI url, int threads, int connections, Duration d)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(wrk.toString(), "-t" + threads, "-c" + connections,
                "-d" + Math.max(1, d.toSeconds()) + "s", "-s", script.toString(), url.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("wrk failed: " + out);
        }
        return out;
    }

    static Path findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static Map<String, Object> withJdkClient(URI jobs, int connections, Duration duration)
            throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(jobs).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + API_KEY)
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
        Recorder latency = new Recorder(3);
        LongAdder ok = new LongAdder();
        LongAdder failed = new LongAdder();
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            for (int i = 0; i < connections; i++) {
                clients.add(Thread.ofVirtual().start(() -> {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
                            if (measuring.get()) {
                                if (r.statusCode() == 201) {
                                    ok.increment();
                                    latency.recordValue((System.nanoTime() - t0) / 1_000);
                                } else {
                                    failed.increment();
                                }
                            }
                        } catch (IOException e) {
                            failed.increment();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
            }
            Thread.sleep(WARMUP.toMillis());
            measuring.set(true);
            latency.reset();
            long t0 = System.nanoTime();
            for (long s = 1; s <= Math.max(1, duration.toSeconds()); s++) {
                Thread.sleep(1_000);
                Report.progress("http %d connections: %d s, %,d scheduled", connections, s, ok.sum());
            }
            long elapsed = System.nanoTime() - t0;
            measuring.set(false);
            long count = ok.sum();
            stop.set(true);
            for (Thread t : clients) {
                t.join();
            }
            Histogram h = latency.getIntervalHistogram();
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("generator", "jdk-httpclient");
            figures.put("connections", connections);
            figures.put("jobs", count);
            figures.put("errors", failed.sum());
            figures.put("per_s", count / (elapsed / 1e9));
            figures.putAll(Report.percentilesMs("latency_", h));
            return figures;
        }
    }
}
