package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The list API cannot run the server out of memory: the real server (the CLI, production wiring) in a JVM with a
 * 96 MiB heap holds 400 jobs of 250 KiB payloads (100 MB, more than its heap), and four clients at once ask for
 * full pages ({@code limit=1000}) of them with payloads, following cursors for several pages, then for full pages
 * without payloads (every job in one page). Every answer is 200 and complete, and the server never throws
 * {@link OutOfMemoryError}. Before pages had a byte budget, one such page was built whole in
 * memory (the jobs, their JSON tree and its bytes: three copies of 100 MB).
 */
class ListMemoryTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://[^:]+:\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int JOBS = 400;
    private static final int PAYLOAD_CHARS = 250 * 1024;
    private static final int CLIENTS = 4;
    /** Pages with payloads each client reads: each page is about one budget (4 MiB), together most of the jobs. */
    private static final int PAGES_WITH_PAYLOADS = 5;

    @TempDir
    Path dir;

    private Process server;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws InterruptedException {
        http.shutdownNow();
        if (server != null) {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    @Test
    void fourClientsPagingThroughLargePayloadsInASmallHeapAllGetCompleteAnswers() throws Exception {
        Path log = dir.resolve("server.log");
        URI base = startServer(log);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            HttpResponse<String> r = send(base, HttpRequest.newBuilder(base.resolve("/v1/jobs"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(job(i))));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            ids.add(JSON.readTree(r.body()).get("id").asText());
        }

        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<List<String>>> withPayloads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                withPayloads.add(clients.submit(() -> pageThrough(base, "&include=payload", PAGES_WITH_PAYLOADS)));
            }
            for (Future<List<String>> f : withPayloads) {
                List<String> seen = f.get(3, TimeUnit.MINUTES);
                assertThat(seen).as("jobs in order, none twice").hasSizeGreaterThan(PAGES_WITH_PAYLOADS)
                        .containsExactlyElementsOf(ids.subList(0, seen.size()));
            }
            List<Future<List<String>>> withoutPayloads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                withoutPayloads.add(clients.submit(() -> pageThrough(base, "", 1)));
            }
            for (Future<List<String>> f : withoutPayloads) {
                assertThat(f.get(1, TimeUnit.MINUTES)).containsExactlyElementsOf(ids);
            }
        } finally {
            clients.shutdownNow();
        }

        assertThat(server.isAlive()).as("the server still runs").isTrue();
        assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
    }

    /**
     * The ids of the jobs of up to {@code maxPages} pages, following cursors; each answer must be 200 and a whole
     * JSON document.
     */
    private List<String> pageThrough(URI base, String include, int maxPages) throws Exception {
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            URI uri = base.resolve("/v1/jobs?limit=1000" + include + (cursor == null ? "" : "&cursor=" + cursor));
            HttpResponse<String> r = send(base, HttpRequest.newBuilder(uri).GET());
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode page = JSON.readTree(r.body()); // throws on a truncated answer
            for (JsonNode job : page.get("jobs")) {
                String id = job.get("id").asText();
                if (include.isEmpty()) {
                    assertThat(job.has("payload")).isFalse();
                } else {
                    assertThat(job.get("payload").get("data").asText()).hasSize(PAYLOAD_CHARS);
                }
                seen.add(id);
            }
            JsonNode next = page.get("nextCursor");
            cursor = next.isNull() ? null : next.asText();
            pages++;
        } while (cursor != null && pages < maxPages);
        return seen;
    }

    private static String job(int i) {
        return "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/hook\"},"
                + " \"payload\": {\"n\": " + i + ", \"data\": \"" + "x".repeat(PAYLOAD_CHARS) + "\"}}";
    }

    private HttpResponse<String> send(URI base, HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.header("Authorization", "Bearer " + ServerFixture.API_KEY)
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** The CLI server with a 96 MiB heap, its output in {@code log}; returns its base URI once it listens. */
    private URI startServer(Path log) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx96m", "-cp", classpath, "dev.hourglass.server.cli.Main",
                "server", "--port", "0", "--data", dir.resolve("data").toString(),
                "--webhook-allowlist", "127.0.0.0/8");
        pb.environment().put("HOURGLASS_DEFAULT_API_KEY", ServerFixture.API_KEY);
        pb.redirectErrorStream(true);
        pb.redirectOutput(log.toFile());
        server = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && server.isAlive()) {
            Matcher m = LISTENING.matcher(Files.readString(log));
            if (m.find()) {
                return URI.create(m.group(1));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not say where it listens:\n" + Files.readString(log));
    }
}
