package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.server.webhook.address.GuardedDnsResolver;
import dev.hourglass.server.webhook.address.WebhookAllowlist;
import dev.hourglass.server.webhook.signing.SigningSecret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real {@link HourglassServer} on port 0 with a SQLite file in a temporary directory, and a real JDK HttpClient
 * to call it. Engine settings are the defaults except a short load interval and shutdown grace, so tests stay fast.
 * Test receivers listen on loopback, which webhooks may not reach by default: the fixture allowlists it
 * ({@link #LOOPBACK}), and signs with a fixed secret ({@link #WEBHOOK_SECRET}) so tests can verify signatures and
 * the same configuration runs on PostgreSQL (which requires a configured secret).
 */
public final class ServerFixture implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();
    /** The loopback ranges, allowlisted explicitly by every test that delivers to a receiver on this machine. */
    public static final WebhookAllowlist LOOPBACK = WebhookAllowlist.parse("127.0.0.0/8,::1");
    /** A fixed test secret (generated once for these tests; it protects nothing). */
    public static final SigningSecret WEBHOOK_SECRET =
            SigningSecret.parse("whsec_0WcasmH8iDw+lQygKj54sVgujKPVrm4ikWvP9VQw2PA=");

    private final HourglassServer server;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private ServerFixture(HourglassServer server) {
        this.server = server;
    }

    public static ServerFixture start(Path dataDir) {
        return start(config(dataDir));
    }

    public static ServerFixture start(ServerConfig config) {
        return new ServerFixture(HourglassServer.start(config));
    }

    public static ServerConfig config(Path dataDir) {
        return ServerConfig.defaults()
                .withPort(0)
                .withDataDir(dataDir)
                .withEngine(testEngine())
                .withStopGrace(Duration.ofSeconds(1))
                .withWebhookAllowlist(LOOPBACK)
                .withWebhookSecrets(List.of(WEBHOOK_SECRET));
    }

    /** The schedule-time address check with {@link #LOOPBACK} allowlisted, for tests that build an ApiHandler. */
    public static GuardedDnsResolver loopbackGuard() {
        return GuardedDnsResolver.system(LOOPBACK);
    }

    public static EngineConfig testEngine() {
        EngineConfig d = EngineConfig.defaults("test-node");
        return new EngineConfig("test-node", Duration.ofSeconds(30), Duration.ofMillis(200), Duration.ofSeconds(5),
                d.maxTimerEntries(), d.maxInFlight(), d.commitBatch(), d.defaultMaxAttempts(),
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)), d.defaultTimeout(), d.maxDelay(),
                d.maxPayloadBytes(), d.retention(), Duration.ofSeconds(1));
    }

    public HourglassServer server() {
        return server;
    }

    public URI uri(String path) {
        return server.baseUri().resolve(path);
    }

    public Response post(String path, String json, String... headers) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(json)),
                withDefault(headers, "Content-Type", "application/json"));
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public Response delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    public Response send(HttpRequest.Builder request, String... headers) {
        if (headers.length > 0) {
            request.headers(headers);
        }
        try {
            HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Schedules a job and returns its JSON, asserting 201. */
    public JsonNode schedule(String json) {
        Response r = post("/v1/jobs", json);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json();
    }

    /** The state of a job, read through the API. */
    public String state(String id) {
        return get("/v1/jobs/" + id).json().get("state").asText();
    }

    /** Every job, following the cursor. */
    public List<JsonNode> allJobs() {
        List<JsonNode> all = new ArrayList<>();
        String cursor = null;
        do {
            Response r = get("/v1/jobs?limit=1000" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            r.json().get("jobs").forEach(all::add);
            JsonNode next = r.json().get("nextCursor");
            cursor = next.isNull() ? null : next.asText();
        } while (cursor != null);
        return all;
    }

    private static String[] withDefault(String[] headers, String name, String value) {
        for (int i = 0; i < headers.length; i += 2) {
            if (headers[i].equalsIgnoreCase(name)) {
                return headers;
            }
        }
        String[] all = new String[headers.length + 2];
        System.arraycopy(headers, 0, all, 0, headers.length);
        all[headers.length] = name;
        all[headers.length + 1] = value;
        return all;
    }

    @Override
    public void close() {
        server.close();
        http.shutdownNow();
    }

    /** An HTTP answer. */
    public record Response(int status, HttpHeaders headers, String body) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        public String contentType() {
            return headers.firstValue("Content-Type").orElse("");
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }
    }
}
