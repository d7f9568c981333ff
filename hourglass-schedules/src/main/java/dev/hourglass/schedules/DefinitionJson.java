package dev.hourglass.schedules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.recurring.DstGap;
import dev.hourglass.recurring.Misfire;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/**
 * A {@link ScheduleDefinition} as the JSON of the {@code schedules.definition} column: durations in milliseconds,
 * instants in epoch milliseconds, the payload in base64. Read back only by this class.
 */
final class DefinitionJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DefinitionJson() {}

    static String write(ScheduleDefinition d) {
        ObjectNode node = JSON.createObjectNode();
        node.put("name", d.name());
        putText(node, "cron", d.cron());
        putMillis(node, "everyMs", d.every());
        putText(node, "timezone", d.timezone());
        node.put("dstGap", d.dstGap().jsonName());
        node.put("handler", d.handler());
        putText(node, "target", d.target());
        node.put("payload", Base64.getEncoder().encodeToString(d.payload()));
        if (d.maxAttempts() != null) {
            node.put("maxAttempts", d.maxAttempts());
        }
        putMillis(node, "timeoutMs", d.timeout());
        putInstant(node, "startAt", d.startAt());
        putInstant(node, "endAt", d.endAt());
        putMillis(node, "jitterMs", d.jitter());
        node.put("overlap", d.overlap().jsonName());
        node.put("misfire", d.misfire().jsonName());
        putMillis(node, "catchupWindowMs", d.catchupWindow());
        putInstant(node, "anchor", d.anchor());
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a definition that cannot be written as JSON", e);
        }
    }

    static ScheduleDefinition read(String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored schedule definition is not JSON: " + e.getOriginalMessage(), e);
        }
        return new ScheduleDefinition(
                node.path("name").asText(),
                text(node, "cron"),
                millis(node, "everyMs"),
                text(node, "timezone"),
                DstGap.fromJson(node.path("dstGap").asText("shift")),
                node.path("handler").asText(),
                text(node, "target"),
                Base64.getDecoder().decode(node.path("payload").asText("")),
                node.hasNonNull("maxAttempts") ? node.get("maxAttempts").asInt() : null,
                millis(node, "timeoutMs"),
                instant(node, "startAt"),
                instant(node, "endAt"),
                millis(node, "jitterMs"),
                Overlap.fromJson(node.path("overlap").asText("skip")),
                Misfire.fromJson(node.path("misfire").asText("fireOnce")),
                millis(node, "catchupWindowMs"),
                instant(node, "anchor"));
    }

    private static void putText(ObjectNode node, String field, String value) {
        if (value != null) {
            node.put(field, value);
        }
    }

    private static void putMillis(ObjectNode node, String field, Duration value) {
        if (value != null) {
            node.put(field, value.toMillis());
        }
    }

    private static void putInstant(ObjectNode node, String field, Instant value) {
        if (value != null) {
            node.put(field, value.toEpochMilli());
        }
    }

    private static String text(JsonNode node, String field) {
        return node.hasNonNull(field) ? node.get(field).asText() : null;
    }

    private static Duration millis(JsonNode node, String field) {
        return node.hasNonNull(field) ? Duration.ofMillis(node.get(field).asLong()) : null;
    }

    private static Instant instant(JsonNode node, String field) {
        return node.hasNonNull(field) ? Instant.ofEpochMilli(node.get(field).asLong()) : null;
    }
}
