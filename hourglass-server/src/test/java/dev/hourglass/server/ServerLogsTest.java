package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.API_KEY;
import static dev.hourglass.server.ServerFixture.WEBHOOK_SECRET;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.core.engine.JobLogContext;
import dev.hourglass.http.ApiServer;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.server.Receiver.Reply;
import dev.hourglass.server.logging.LogFormat;
import dev.hourglass.server.logging.LogOptions;
import dev.hourglass.server.logging.ServerLogging;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * A whole server run with every logger at DEBUG, in both log formats, through the server's own logging configuration
 * ({@link ServerLogging}, the console appenders of {@code logback.xml}): no line holds a key, the webhook signing
 * secret, an Authorization header value, a signature, a payload or a receiver's answer; every API call has its access
 * line; the lines about a job carry its fields (job id, tenant, attempt), and in JSON every line is one object.
 */
class ServerLogsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A credential of the receiver's, sent as one of the target's headers. */
    private static final String RECEIVER_TOKEN = "receiver-token-5f1c0e9a7d";
    private static final String PAYLOAD_MARKER = "payload-marker-7a3e91";
    private static final String ANSWER_MARKER = "answer-marker-c4d2b8";
    private static final String WRONG_KEY = "hgk_wrong-key-that-nobody-has-0123456789";
    /** The access line's message: method, route, status, duration, tenant. */
    private static final Pattern ACCESS = Pattern.compile(
            "(GET|POST|PATCH|DELETE|PUT|HEAD) (\\S+) (\\d{3}) \\d+\\.\\d{3}ms tenant=(\\S+)");

    @TempDir
    Path dir;

    @AfterEach
    void backToTheDefaults() {
        ServerLogging.configure(new LogOptions(LogFormat.TEXT, false));
    }

    @ParameterizedTest
    @EnumSource(LogFormat.class)
    void aWholeRunAtDebugLogsNoSecretAndTiesJobLinesToTheirJob(LogFormat format) throws Exception {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install(); // as Main does: the HTTP server's java.util.logging lines come in too
        }
        Run run = new Run();
        List<String> lines = captureConsole(format, () -> scenario(run));

        List<String> secrets = new ArrayList<>(List.of(API_KEY, ADMIN_KEY, WEBHOOK_SECRET.encoded(),
                WEBHOOK_SECRET.encoded().substring("whsec_".length()), RECEIVER_TOKEN, WRONG_KEY,
                PAYLOAD_MARKER, ANSWER_MARKER, "Bearer "));
        secrets.addAll(run.keys);
        secrets.addAll(run.signatures);
        assertThat(lines).as("a whole run logs something at DEBUG").hasSizeGreaterThan(20);
        assertThat(lines).as("the logging configuration loads without a warning")
                .noneMatch(l -> l.contains("|-WARN") || l.contains("|-ERROR"));
        for (String secret : secrets) {
            assertThat(lines).as("no line holds " + secret).noneMatch(l -> l.contains(secret));
        }

        List<Logged> logged = lines.stream().map(l -> Logged.parse(format, l)).toList();
        List<Matcher> access = logged.stream().filter(l -> l.logger().equals(ApiServer.ACCESS_LOG))
                .map(l -> ACCESS.matcher(l.message())).toList();
        assertThat(access).as("every access line has method, route, status, duration, tenant")
                .allMatch(Matcher::matches);
        List<String> calls = access.stream()
                .map(m -> m.group(1) + " " + m.group(2) + " " + m.group(3) + " " + m.group(4)).toList();
        assertThat(calls).contains("POST /v1/jobs 201 default", "DELETE /v1/jobs/{id} 200 default",
                "GET /v1/jobs/{id} 200 default", "GET /v1/jobs 401 -", "POST /v1/admin/tenants 201 (admin)",
                "POST /v1/jobs 201 acme", "GET /v1/jobs 200 default");
        assertThat(access).as("one line per API call").hasSize(run.calls);
        assertThat(access).as("no query in an access line").noneMatch(m -> m.group().contains("limit"));
        for (String id : List.of(run.succeeding, run.failing, run.cancelled)) {
            assertThat(access).as("no job id in an access line").noneMatch(m -> m.group().contains(id));
        }

        assertThat(logged).as("each failed delivery, with its job's fields")
                .filteredOn(l -> l.message().startsWith("webhook delivery failed: HTTP 500"))
                .extracting(l -> l.field(JobLogContext.JOB_ID) + " " + l.field(JobLogContext.TENANT) + " "
                        + l.field(JobLogContext.ATTEMPT))
                .containsExactlyInAnyOrder(run.failing + " default 1", run.failing + " default 2");
        assertThat(logged).as("the delivered job's line")
                .filteredOn(l -> l.message().equals("webhook delivered"))
                .extracting(l -> l.field(JobLogContext.JOB_ID) + " " + l.field(JobLogContext.ATTEMPT))
                .containsExactly(run.succeeding + " 1");
        assertThat(logged).as("no trace id without a trace context")
                .allMatch(l -> l.field(JobLogContext.TRACE_ID) == null);
    }

    /** What the scenario did, for the assertions. */
    private static final class Run {
        String succeeding;
        String failing;
        String cancelled;
        /** The keys the admin API made for tenant acme. */
        final List<String> keys = new ArrayList<>();
        final List<String> signatures = new ArrayList<>();
        int calls;
    }

    private void scenario(Run run) {
        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(dir)) {
            receiver.on("/fail", n -> new Reply(500, Map.of(), false,
                    out -> out.write(ANSWER_MARKER.getBytes(StandardCharsets.UTF_8))));
            run.succeeding = api.schedule(job(receiver, "/ok", "")).get("id").asText();
            run.failing = api.schedule(job(receiver, "/fail", "\"maxAttempts\": 2, ")).get("id").asText();
            run.cancelled = api.post("/v1/jobs", "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", "
                    + "\"url\": \"" + receiver.url("/later") + "\"}}").json().get("id").asText();
            assertThat(api.delete("/v1/jobs/" + run.cancelled).status()).isEqualTo(200);
            assertThat(api.get("/v1/jobs", "Authorization", "Bearer " + WRONG_KEY).status()).isEqualTo(401);
            ServerFixture.Response tenant = api.post("/v1/admin/tenants", "{\"name\": \"acme\"}",
                    bearer(ADMIN_KEY));
            assertThat(tenant.status()).isEqualTo(201);
            run.keys.add(tenant.json().get("apiKey").asText());
            run.keys.add(api.post("/v1/admin/tenants/acme/keys", "", bearer(ADMIN_KEY)).json().get("apiKey")
                    .asText());
            assertThat(api.post("/v1/jobs", "{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", "
                    + "\"url\": \"" + receiver.url("/acme") + "\"}}", bearer(run.keys.getLast())).status())
                    .isEqualTo(201);
            assertThat(api.get("/v1/jobs?limit=5&state=SCHEDULED").status()).isEqualTo(200);
            run.calls = 9;
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                String succeeding = api.state(run.succeeding);
                String failing = api.state(run.failing);
                run.calls += 2;
                return succeeding.equals("SUCCEEDED") && failing.equals("FAILED");
            });
            assertThat(api.get("/v1/jobs/" + run.failing).json().get("lastError").asText())
                    .as("the receiver's answer stays in the job, for its tenant").contains(ANSWER_MARKER);
            run.calls++;
            receiver.deliveries().stream().map(d -> d.header("webhook-signature")).forEach(run.signatures::add);
            assertThat(receiver.deliveries()).extracting(Delivery::path).contains("/ok", "/fail");
        }
    }

    private static String job(Receiver receiver, String path, String options) {
        return "{\"delaySeconds\": 0, " + options + "\"backoff\": {\"initialSeconds\": 0.05, \"maxSeconds\": 0.1}, "
                + "\"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url(path) + "\", "
                + "\"headers\": {\"Authorization\": \"Bearer " + RECEIVER_TOKEN + "\"}}, "
                + "\"payload\": {\"note\": \"" + PAYLOAD_MARKER + "\"}}";
    }

    /**
     * Runs {@code scenario} with the server's logging in {@code format}, every logger at DEBUG, and returns the
     * console's lines. Reconfiguring at the end stops the access log's asynchronous appender, which writes what it
     * still holds.
     */
    private static List<String> captureConsole(LogFormat format, Runnable scenario) {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        try {
            ServerLogging.configure(new LogOptions(format, true));
            LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
            context.getLoggerList().forEach(l -> l.setLevel(Level.DEBUG));
            scenario.run();
            ServerLogging.configure(new LogOptions(format, false));
        } finally {
            System.setOut(original);
        }
        return console.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
    }

    /** One log line: its logger, message, and a job field (null: absent). */
    private record Logged(String logger, String message, Map<String, String> fields) {
        private static final Pattern TEXT = Pattern.compile(
                "\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (\\S+) +\\[(?:[^\\[\\]]|\\[[^\\]]*])*] (\\S+) - (.*?)"
                        + "(?: \\[([^\\[\\]]*)])?");
        /** The access logger's name as the text format's {@code %logger{20}} shortens it. */
        private static final String SHORT_ACCESS_LOG =
                new TargetLengthBasedClassNameAbbreviator(20).abbreviate(ApiServer.ACCESS_LOG);

        static Logged parse(LogFormat format, String line) {
            if (format == LogFormat.JSON) {
                JsonNode json;
                try {
                    json = JSON.readTree(line);
                } catch (IOException e) {
                    throw new AssertionError("not a JSON line: " + line, e);
                }
                assertThat(json.isObject()).as(line).isTrue();
                assertThat(json.has("level") && json.has("timestamp") && json.has("loggerName")).as(line).isTrue();
                Map<String, String> fields = new HashMap<>();
                json.path("mdc").properties().forEach(e -> fields.put(e.getKey(), e.getValue().asText()));
                return new Logged(json.get("loggerName").asText(), json.path("formattedMessage").asText(), fields);
            }
            Matcher m = TEXT.matcher(line);
            if (!m.matches()) {
                return new Logged("", line, Map.of()); // a continuation line (a stack trace)
            }
            Map<String, String> fields = new HashMap<>();
            if (m.group(4) != null) {
                for (String pair : m.group(4).split(", ")) {
                    int eq = pair.indexOf('=');
                    if (eq > 0) {
                        fields.put(pair.substring(0, eq), pair.substring(eq + 1));
                    }
                }
            }
            String logger = m.group(2).equals(SHORT_ACCESS_LOG) ? ApiServer.ACCESS_LOG : m.group(2);
            return new Logged(logger, m.group(3), fields);
        }

        String field(String name) {
            return fields.get(name);
        }
    }

}
