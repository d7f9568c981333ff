package dev.hourglass.bench;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.metrics.HourglassMetrics;
import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.MetricsOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What the metrics cost: S1 in the library (64 callers) and over HTTP (64 connections) with the meters off and on,
 * alternated in one run (off, on, on, off, ...) so that the machine's drift falls on both alike; with them on,
 * {@code /metrics} is scraped every second, as an eager Prometheus would. Prints the medians, and on/off as the
 * median of each round's ratio.
 */
final class MetricsCost {
    private static final byte[] PAYLOAD = "{\"to\":\"user@example.com\",\"template\":\"reminder\"}"
            .getBytes(StandardCharsets.UTF_8);
    /** Schedules spread over this many tenants, so the tenant labels are exercised as in a shared service. */
    private static final int TENANTS = 8;

    private MetricsCost() {}

    static void run(Report report, Path workDir, int callers, Duration duration, int rounds) throws Exception {
        List<Double> libraryOff = new ArrayList<>();
        List<Double> libraryOn = new ArrayList<>();
        List<Double> httpOff = new ArrayList<>();
        List<Double> httpOn = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            boolean onFirst = round % 2 == 1;
            for (boolean on : new boolean[] {onFirst, !onFirst}) {
                double perS = library(workDir, callers, duration, on);
                (on ? libraryOn : libraryOff).add(perS);
                Report.progress("metrics round %d: library %s %,.0f schedules/s", round + 1, on ? "on " : "off", perS);
            }
            for (boolean on : new boolean[] {onFirst, !onFirst}) {
                double perS = http(workDir, callers, duration, on);
                (on ? httpOn : httpOff).add(perS);
                Report.progress("metrics round %d: http    %s %,.0f schedules/s", round + 1, on ? "on " : "off", perS);
            }
        }
        report.result("metrics-cost-library", figures(callers, libraryOff, libraryOn));
        report.result("metrics-cost-http", figures(callers, httpOff, httpOn));
    }

    private static Map<String, Object> figures(int callers, List<Double> off, List<Double> on) {
        return onOff(Map.of("callers", callers), off, on);
    }

    /**
     * The report of an off/on comparison, after {@code labels}: the median rates, and on/off as the median of the
     * rounds' ratios. {@code off.get(i)} and {@code on.get(i)} are round i's pair.
     */
    static Map<String, Object> onOff(Map<String, Object> labels, List<Double> off, List<Double> on) {
        Map<String, Object> figures = new LinkedHashMap<>(labels);
        figures.put("rounds", off.size());
        figures.put("off_per_s", median(off));
        figures.put("on_per_s", median(on));
        List<Double> ratios = roundRatios(off, on);
        // A round's pair runs back to back, so its ratio leaves out the drift between rounds.
        figures.put("on_over_off", median(ratios));
        figures.put("round_ratios", listed(ratios));
        return figures;
    }

    /** Each round's on/off, in round order. */
    static List<Double> roundRatios(List<Double> off, List<Double> on) {
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < off.size(); i++) {
            ratios.add(on.get(i) / off.get(i));
        }
        return ratios;
    }

    /** Ratios as a RESULT line lists them: {@code 0.981,1.006}. */
    static String listed(List<Double> ratios) {
        return ratios.stream().map(r -> String.format(java.util.Locale.ROOT, "%.3f", r))
                .collect(java.util.stream.Collectors.joining(","));
    }

    private static double library(Path workDir, int callers, Duration duration, boolean on) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "metrics-" + (on ? "on" : "off"));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineMetrics metrics = on ? HourglassMetrics.builder(registry).build() : EngineMetrics.NOOP;
        ScheduledExecutorService scraper = Executors.newSingleThreadScheduledExecutor();
        try (Hourglass engine = BenchEngines.engine(dir, ctx -> Outcome.succeeded(), metrics, 512)) {
            if (on) {
                scraper.scheduleAtFixedRate(registry::scrape, 1, 1, TimeUnit.SECONDS);
            }
            Map<String, Object> figures = ScheduleThroughput.measure(engine, callers, duration,
                    Duration.ofSeconds(1), i -> JobRequest.of("noop", PAYLOAD).withTenant("tenant-" + i % TENANTS));
            return ((Number) figures.get("per_s")).doubleValue();
        } finally {
            scraper.shutdownNow();
            registry.close();
            BenchEngines.delete(dir);
        }
    }

    private static double http(Path workDir, int connections, Duration duration, boolean on) throws Exception {
        ScheduledExecutorService scraper = Executors.newSingleThreadScheduledExecutor();
        HttpClient client = HttpClient.newHttpClient();
        Consumer<HourglassServer> scrapeEverySecond = server -> server.metricsUri().ifPresent(uri ->
                scraper.scheduleAtFixedRate(() -> get(client, uri), 1, 1, TimeUnit.SECONDS));
        try {
            Map<String, Object> figures = HttpThroughput.measure(workDir, connections, duration,
                    config -> config.withMetrics(MetricsOptions.DEFAULTS.withEnabled(on)), scrapeEverySecond);
            return ((Number) figures.get("per_s")).doubleValue();
        } finally {
            scraper.shutdownNow();
            client.close();
        }
    }

    private static void get(HttpClient client, URI uri) {
        try {
            client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding());
        } catch (Exception e) {
            // a missed scrape is not worth failing the figure for
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
