package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.webhook.signing.SigningSecret;
import dev.hourglass.webhook.signing.WebhookSigner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    private static final SigningSecret NEW = SigningSecret.generate();
    private static final SigningSecret OLD = ServerFixture.WEBHOOK_SECRET;

    @TempDir
    Path dir;

    private NodeReceiver node;
    private URI receiver;
    private HttpClient http;

    @BeforeEach
    void startTheNodeReceiver() throws Exception {
        node = NodeReceiver.start(Map.of(
                "/new", NEW.encoded(), "/old", OLD.encoded(), "/other", SigningSecret.generate().encoded()));
        receiver = node.resolve("/");
        http = node.http();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (node != null) {
            node.close();
        }
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
        return node.seen();
    }
}
