package dev.hourglass.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where a webhook job is delivered: stored as JSON text in {@code Job.target()}, for example
 * {@code {"type":"webhook","url":"https://example.com/hook","headers":{"Authorization":"Bearer x"}}}.
 * The HTTP API validates a target before it is stored (see {@code ScheduleRequestParser}); reading one back only
 * checks what delivery needs.
 */
public record WebhookTarget(URI url, Map<String, String> headers) {
    public static final String TYPE = "webhook";
    private static final ObjectMapper JSON = new ObjectMapper();

    public WebhookTarget {
        Objects.requireNonNull(url, "url");
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /**
     * The receiver's origin, {@code scheme://host:port} in lower case with the scheme's default port spelled out
     * ({@code https://example.com:443}): the target the delivery history names and the target monitor watches, so
     * every path of one receiver counts toward one alarm.
     */
    public String origin() {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        int port = url.getPort() != -1 ? url.getPort() : "https".equals(scheme) ? 443 : "http".equals(scheme) ? 80 : -1;
        String host = url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT);
        return scheme + "://" + host + (port == -1 ? "" : ":" + port);
    }

    /** The stored form: compact JSON, headers in the order given, omitted when there are none. */
    public String toJson() {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", TYPE);
        node.put("url", url.toString());
        if (!headers.isEmpty()) {
            ObjectNode h = node.putObject("headers");
            headers.forEach(h::put);
        }
        return node.toString();
    }

    /**
     * Reads a stored target.
     *
     * @throws IllegalArgumentException if the text is not a webhook target
     */
    public static WebhookTarget fromJson(String text) {
        if (text == null) {
            throw new IllegalArgumentException("the job has no target");
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the target is not JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject() || !TYPE.equals(node.path("type").asText(null))) {
            throw new IllegalArgumentException("the target is not of type " + TYPE);
        }
        JsonNode url = node.get("url");
        if (url == null || !url.isTextual()) {
            throw new IllegalArgumentException("the target has no url");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        JsonNode h = node.get("headers");
        if (h != null && h.isObject()) {
            h.properties().forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
        }
        return new WebhookTarget(URI.create(url.asText()), headers);
    }
}
