package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.webhook.signing.SigningSecret;
import dev.hourglass.webhook.signing.WebhookSigner;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interoperability: a real receiver in Node.js ({@code src/test/node/receiver.js}) verifies every delivery with the
 * official Standard Webhooks library (npm {@code standardwebhooks}, pinned in {@code package-lock.json} and installed
 * here with {@code npm ci}). It accepts every delivery Hourglass makes, including those signed during a rotation
 * for a receiver that knows only the old secret, and rejects a tampered body and stale or future timestamps.
 * Skipped (an assumption, with the reason) when {@code node} or {@code npm} is not on the PATH.
 */
class StandardWebhooksReceiverTest {
    private static final Path SOURCES = Path.of("src/test/node").toAbsolutePath();
    private static final Path INSTALL = Path.of("target/standardwebhooks-receiver").toAbsolutePath();
    private static final SigningSecret NEW = SigningSecret.generate();
    private static final SigningSecret OLD = ServerFixture.WEBHOOK_SECRET;

    @TempDir
    Path dir;

    private Process node;
    private URI receiver;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void startTheNodeReceiver() throws Exception {
        Path nodeBin = onPath("node");
        Path npm = onPath("npm");
        assumeTrue(nodeBin != null && npm != null, "node and npm are not on the PATH: the Standard Webhooks "
                + "interoperability test (a Node.js receiver using the official library) is skipped");
        install(npm);
        ProcessBuilder pb = new ProcessBuilder(nodeBin.toString(), "receiver.js").directory(INSTALL.toFile())
                .redirectErrorStream(true);
        pb.environment().put("RECEIVER_SECRETS", ServerFixture.JSON.writeValueAsString(Map.of(
                "/new", NEW.encoded(), "/old", OLD.encoded(), "/other", SigningSecret.generate().encoded())));
        node = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("the receiver's first line").startsWith("LISTENING ");
        receiver = URI.create("http://127.0.0.1:" + line.substring("LISTENING ".length()).trim());
        Thread.ofVirtual().start(() -> out.lines().forEach(l -> { })); // keep its pipe from filling up
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (node != null) {
            node.destroy();
            node.waitFor(5, TimeUnit.SECONDS);
            node.destroyForcibly();
        }
        http.close();
    }

    /** The sources (package.json, package-lock.json, receiver.js) into target/, then {@code npm ci} there. */
    private static void install(Path npm) throws Exception {
        Files.createDirectories(INSTALL);
        for (String file : List.of("package.json", "package-lock.json", "receiver.js")) {
            Files.copy(SOURCES.resolve(file), INSTALL.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Process ci = new ProcessBuilder(npm.toString(), "ci", "--no-audit", "--no-fund", "--prefer-offline")
                .directory(INSTALL.toFile()).redirectErrorStream(true).start();
        String output = new String(ci.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(ci.waitFor(180, TimeUnit.SECONDS)).as("npm ci finished").isTrue();
        assertThat(ci.exitValue()).as("npm ci in %s:%n%s", INSTALL, output).isZero();
    }

    @Test
    void theOfficialLibraryAcceptsEveryDeliveryAndRejectsTamperingAndStaleTimestamps() throws Exception {
        List<String> ids = new ArrayList<>();
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir).withWebhookSecrets(List.of(NEW, OLD)))) {
            String[] payloads = {"{\"orderId\": 42, \"amount\": 19.90}", "null", "\"caf\\u00e9 \\u2615 \\ud83d\\ude00\"",
                "[1, 2.50, {\"nested\": {\"deep\": true}}]", "{\"text\": \"a.b.c\\n\\\"quoted\\\"\"}"};
            for (String path : List.of("/new", "/old")) { // /old: a receiver that has not got the new secret yet
                for (String payload : payloads) {
                    ids.add(api.schedule("{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", \"url\": \""
                            + receiver.resolve(path) + "\"}, \"payload\": " + payload + "}").get("id").asText());
                }
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> ids.stream().allMatch(
                    id -> api.state(id).equals("SUCCEEDED")));
        }
        List<JsonNode> seen = seen();
        assertThat(seen).hasSize(ids.size()).allSatisfy(s -> assertThat(s.get("verified").asBoolean())
                .as("verified by the library: %s", s).isTrue());
        assertThat(seen).extracting(s -> s.get("headers").get("webhook-id").asText())
                .containsExactlyInAnyOrderElementsOf(ids);

        JsonNode real = seen.getFirst();
        String body = real.get("body").asText();
        // Replayed unchanged within the tolerance, the delivery verifies (deduplicating on webhook-id is the
        // receiver's part); changed in one character, it does not.
        assertThat(send("/new", real.get("headers"), body).statusCode()).isEqualTo(204);
        HttpResponse<String> tampered = send("/new", real.get("headers"), body.replace("42", "43"));
        assertThat(tampered.statusCode()).isEqualTo(401);
        assertThat(tampered.body()).contains("No matching signature found");
        assertThat(send("/other", real.get("headers"), body).statusCode()).as("a secret it was not signed with")
                .isEqualTo(401);

        // Hourglass's signer against the library directly: now, 10 minutes old, 10 minutes ahead.
        long now = System.currentTimeMillis() / 1000;
        assertThat(send("/new", signed("msg-1", now, body), body).statusCode()).isEqualTo(204);
        HttpResponse<String> stale = send("/new", signed("msg-2", now - 600, body), body);
        assertThat(stale.statusCode()).isEqualTo(401);
        assertThat(stale.body()).contains("timestamp too old");
        HttpResponse<String> future = send("/new", signed("msg-3", now + 600, body), body);
        assertThat(future.statusCode()).isEqualTo(401);
        assertThat(future.body()).contains("timestamp too new");
    }

    private static JsonNode signed(String id, long timestamp, String body) {
        ObjectNode headers = ServerFixture.JSON.createObjectNode();
        headers.put("webhook-id", id);
        headers.put("webhook-timestamp", Long.toString(timestamp));
        headers.put("webhook-signature", WebhookSigner.signature(id, timestamp,
                body.getBytes(StandardCharsets.UTF_8), List.of(NEW, OLD)));
        return headers;
    }

    private HttpResponse<String> send(String path, JsonNode headers, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(receiver.resolve(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        headers.properties().forEach(h -> request.header(h.getKey(), h.getValue().asText()));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<JsonNode> seen() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(receiver.resolve("/seen")).build(),
                HttpResponse.BodyHandlers.ofString());
        List<JsonNode> all = new ArrayList<>();
        ServerFixture.JSON.readTree(r.body()).forEach(all::add);
        return all;
    }

    private static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String d : path.split(File.pathSeparator)) {
            Path candidate = Path.of(d, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
