package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import dev.hourglass.http.ApiHandler;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.tenancy.JdbcTenantStore;
import dev.hourglass.tenancy.QuotaGate;
import dev.hourglass.tenancy.TenantDirectory;
import dev.hourglass.tenancy.TenantStore;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import dev.hourglass.webhook.signing.SigningSecret;
import io.opentelemetry.api.OpenTelemetry;
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

    /** The {@code default} tenant's key in tests (preset, as HOURGLASS_DEFAULT_API_KEY does); protects nothing. */
    public static final String API_KEY = "hgk_test-default-tenant-key-0123456789";
    /** The admin API's key in tests; protects nothing. */
    public static final String ADMIN_KEY = "hgk_test-admin-key-0123456789abcdef";
    public static final ServerKeys KEYS = new ServerKeys(ADMIN_KEY, API_KEY);

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

    /** A server whose every component reads the time from {@code clock}. */
    public static ServerFixture start(ServerConfig config, ManualClock clock) {
        return new ServerFixture(HourglassServer.start(config, clock, clock));
    }

    /** A server whose every component reads the time from {@code wallClock} and {@code ticker}. */
    public static ServerFixture start(ServerConfig config, java.time.InstantSource wallClock,
            dev.hourglass.core.time.Ticker ticker) {
        return new ServerFixture(HourglassServer.start(config, wallClock, ticker));
    }

    /** A server on {@code clock} whose webhook attempts are traced with {@code openTelemetry}. */
    public static ServerFixture start(ServerConfig config, ManualClock clock, OpenTelemetry openTelemetry) {
        return new ServerFixture(HourglassServer.start(config, clock, clock, openTelemetry));
    }

    public static ServerConfig config(Path dataDir) {
        return ServerConfig.defaults()
                .withPort(0)
                .withDataDir(dataDir)
                .withEngine(testEngine())
                .withStopGrace(Duration.ofSeconds(1))
                .withWebhookAllowlist(LOOPBACK)
                .withWebhookSecrets(List.of(WEBHOOK_SECRET))
                .withKeys(KEYS);
    }

    /** The schedule-time address check with {@link #LOOPBACK} allowlisted, for tests that build an ApiHandler. */
    public static GuardedDnsResolver loopbackGuard() {
        return GuardedDnsResolver.system(LOOPBACK);
    }

    /**
     * An API handler over an engine the test built, as the server wires it: tenants from {@code store} with
     * {@link #KEYS}, quotas, loopback allowlisted.
     */
    public static ApiHandler apiHandler(Hourglass hourglass, JobStore store, Duration storeTimeout) {
        TenantStore tenantStore = JdbcTenantStore.on((SqlDatabase) store);
        TenantDirectory tenants = new TenantDirectory(tenantStore, SystemTime.wallClock(), List.of(WEBHOOK_SECRET));
        tenants.start(API_KEY, TenantDirectory.DEFAULT_REFRESH);
        QuotaGate quotas = new QuotaGate(tenantStore, Ticker.system(), QuotaGate.DEFAULT_RECOUNT).start();
        return new ApiHandler(hourglass, ApiHandler.DEFAULT_MAX_BODY_BYTES, storeTimeout, loopbackGuard(), tenants,
                quotas, ADMIN_KEY);
    }

    /** A request that carries the {@code default} tenant's key. */
    public static HttpRequest.Builder authorized(URI uri) {
        return HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + API_KEY);
    }

    public static EngineConfig testEngine() {
        return testEngine("test-node");
    }

    /** {@link #testEngine()} as node {@code nodeId}, for tests that run several nodes on one store. */
    public static EngineConfig testEngine(String nodeId) {
        return EngineConfig.builder(nodeId).loadInterval(Duration.ofMillis(200)).leaseTtl(Duration.ofSeconds(5))
                .defaultBackoff(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)))
                .shutdownGrace(Duration.ofSeconds(1)).build();
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

    public Response get(String path, String... headers) {
        return send(HttpRequest.newBuilder(uri(path)).GET(), headers);
    }

    public Response delete(String path, String... headers) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE(), headers);
    }

    public Response patch(String path, String json, String... headers) {
        return send(HttpRequest.newBuilder(uri(path)).method("PATCH", HttpRequest.BodyPublishers.ofString(json)),
                withDefault(headers, "Content-Type", "application/json"));
    }

    /** The Authorization header of {@code key}, for {@code headers} arguments. */
    public static String[] bearer(String key) {
        return new String[] {"Authorization", "Bearer " + key};
    }

    /**
     * Sends as the {@code default} tenant ({@link #API_KEY}) unless {@code headers} carry an Authorization; a header
     * given with an empty value is left out (so {@code "Authorization", ""} sends none). Every answer is held to the
     * API's OpenAPI contract ({@link ApiContract}): one it does not describe fails the test.
     */
    public Response send(HttpRequest.Builder request, String... headers) {
        headers = withDefault(headers, "Authorization", "Bearer " + API_KEY);
        for (int i = 0; i < headers.length; i += 2) {
            if (!headers[i + 1].isEmpty()) {
                request.header(headers[i], headers[i + 1]);
            }
        }
        try {
            HttpResponse<String> r = ApiContract.check(http.send(request.timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()));
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
