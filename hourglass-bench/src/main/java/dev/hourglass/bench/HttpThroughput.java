package dev.hourglass.bench;

import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S1 over HTTP: N clients, each with its own keep-alive connection, POST /v1/jobs in a loop; every 201 means the job
 * is on disk. The load generator runs in the same process on the same two cores, so the figure is a lower bound.
 */
final class HttpThroughput {
    private HttpThroughput() {}

    static void run(Report report, Path workDir, int connections, Duration duration) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "http-" + connections);
        try (HourglassServer server = HourglassServer.start(ServerConfig.defaults().withPort(0).withDataDir(dir))) {
            URI jobs = server.baseUri().resolve("/v1/jobs");
            String body = "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", \"url\": "
                    + "\"http://127.0.0.1:9/never\"}, \"payload\": {\"to\": \"user@example.com\", \"n\": 1}}";
            HttpRequest request = HttpRequest.newBuilder(jobs).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            Recorder latency = new Recorder(3);
            LongAdder ok = new LongAdder();
            LongAdder failed = new LongAdder();
            AtomicBoolean measuring = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> clients = new ArrayList<>();
            List<HttpClient> httpClients = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                httpClients.add(client);
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
                        } catch (Exception e) {
                            failed.increment();
                        }
                    }
                }));
            }
            Thread.sleep(1_000);
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
            httpClients.forEach(HttpClient::close);
            Histogram h = latency.getIntervalHistogram();
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("connections", connections);
            figures.put("jobs", count);
            figures.put("errors", failed.sum());
            figures.put("per_s", count / (elapsed / 1e9));
            figures.putAll(Report.percentilesMs("latency_", h));
            report.result("schedule-http", figures);
        } finally {
            BenchEngines.delete(dir);
        }
    }
}
