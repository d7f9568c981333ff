package dev.hourglass.queues;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads, checks and writes queue targets. {@link #read} is the check at schedule time (the HTTP API's and the
 * library's): it names every field that is wrong, so that nothing is stored that could not be delivered.
 * {@link #fromJson} reads a stored target back and checks only its shape.
 *
 * <p>The rules per type: a Kafka topic is 1-249 of {@code [A-Za-z0-9._-]} and not {@code .} or {@code ..}; a
 * RabbitMQ exchange is at most 255 of {@code [A-Za-z0-9._:-]} ({@code ""} is the default exchange) and a routing key
 * at most 255 bytes; a NATS subject is dot-separated tokens without wildcards or white space; a Redis stream key is
 * 1-1024 characters. Headers (not for Redis) are at most {@value #MAX_HEADERS} string values, without control
 * characters, and may not use Hourglass's own names ({@code Hourglass-*}, {@code Idempotency-Key}) nor the
 * system's reserved ones ({@code Nats-*} for NATS, {@code x-*} for RabbitMQ).
 */
public final class QueueTargets {
    /** Receives a problem with a field: its JSON path (as {@code target.topic}) and what is wrong. */
    @FunctionalInterface
    public interface Problems {
        void add(String field, String message);
    }

    public static final int MAX_HEADERS = 32;
    public static final int MAX_HEADER_NAME_LENGTH = 128;
    public static final int MAX_HEADER_VALUE_LENGTH = 1024;
    static final int MAX_KEY_LENGTH = 1024;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern KAFKA_TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    private static final Pattern RABBIT_EXCHANGE = Pattern.compile("[A-Za-z0-9._:-]{0,255}");
    private static final Pattern NATS_TOKEN = Pattern.compile("[^\\s.*>]+");
    private static final Map<QueueType, Set<String>> FIELDS = Map.of(
            QueueType.KAFKA, Set.of("type", "connection", "topic", "key", "headers"),
            QueueType.RABBITMQ, Set.of("type", "connection", "exchange", "routingKey", "headers"),
            QueueType.NATS, Set.of("type", "connection", "subject", "headers"),
            QueueType.REDIS, Set.of("type", "connection", "stream"));

    private QueueTargets() {}

    /** True when {@code type} names a queue target type. */
    public static boolean isQueueType(String type) {
        return QueueType.ofId(type).isPresent();
    }

    /**
     * Checks a target given at schedule time.
     *
     * @param target the {@code target} object; its {@code type} must be a queue type
     * @param connections the connections that may be named: the server's, less those the tenant may not use
     * @param payloadBytes the size of the message body the job will carry
     * @param problems where each problem goes, under {@code target.<field>}
     * @return the target, or null when there was a problem
     */
    public static QueueTarget read(ObjectNode target, Map<String, QueueConnection> connections, int payloadBytes,
            Problems problems) {
        return read(target, connections, Grant.ALL, payloadBytes, problems);
    }

    /** Which connections a caller (a tenant) may use. */
    public record Grant(String who, java.util.function.Predicate<String> mayUse) {
        /** Every connection. */
        public static final Grant ALL = new Grant("", name -> true);
    }

    /**
     * Checks a target given at schedule time by a caller who may use only some connections.
     *
     * @param grant the connections the caller may use; a target naming another is refused, saying so
     */
    public static QueueTarget read(ObjectNode target, Map<String, QueueConnection> connections, Grant grant,
            int payloadBytes, Problems problems) {
        String typeId = target.path("type").asText("");
        QueueType type = QueueType.ofId(typeId).orElseThrow(
                () -> new IllegalArgumentException("not a queue type: " + typeId));
        Counted counted = new Counted(problems);
        target.fieldNames().forEachRemaining(name -> {
            if (!FIELDS.get(type).contains(name)) {
                counted.add("target." + name, "is not a field of a " + type.id() + " target; its fields: "
                        + String.join(", ", new java.util.TreeSet<>(FIELDS.get(type))));
            }
        });
        String connection = connection(target.get("connection"), type, connections, counted);
        if (connection != null && !grant.mayUse().test(connection)) {
            counted.add("target.connection", "\"" + connection + "\" may not be used by " + grant.who()
                    + " (the admin API sets which connections a tenant may use)");
            connection = null;
        }
        if (payloadBytes > type.maxPayloadBytes()) {
            counted.add("payload", "must be at most " + type.maxPayloadBytes() + " bytes for a " + type.id()
                    + " target, was " + payloadBytes);
        }
        QueueTarget result = switch (type) {
            case KAFKA -> {
                String topic = required(target, "topic", counted);
                if (topic != null && (!KAFKA_TOPIC.matcher(topic).matches() || topic.equals(".")
                        || topic.equals(".."))) {
                    counted.add("target.topic", "must be 1-249 letters, digits, '.', '_' or '-' (and not '.' or "
                            + "'..'), was \"" + abbreviate(topic) + "\"");
                }
                String key = optional(target, "key", counted);
                if (key != null && (key.isEmpty() || key.length() > MAX_KEY_LENGTH)) {
                    counted.add("target.key", "must be 1-" + MAX_KEY_LENGTH + " characters");
                }
                Map<String, String> headers = headers(target.get("headers"), type, counted);
                yield connection == null || topic == null || headers == null ? null
                        : new KafkaTarget(connection, topic, key, headers);
            }
            case RABBITMQ -> {
                String exchange = requiredAllowEmpty(target, "exchange", counted);
                if (exchange != null && !RABBIT_EXCHANGE.matcher(exchange).matches()) {
                    counted.add("target.exchange", "must be at most 255 letters, digits, '.', '_', ':' or '-' (\"\" "
                            + "is the default exchange), was \"" + abbreviate(exchange) + "\"");
                }
                String routingKey = requiredAllowEmpty(target, "routingKey", counted);
                if (routingKey != null && routingKey.getBytes(StandardCharsets.UTF_8).length > 255) {
                    counted.add("target.routingKey", "must be at most 255 bytes");
                }
                Map<String, String> headers = headers(target.get("headers"), type, counted);
                yield connection == null || exchange == null || routingKey == null || headers == null ? null
                        : new RabbitMqTarget(connection, exchange, routingKey, headers);
            }
            case NATS -> {
                String subject = required(target, "subject", counted);
                if (subject != null && !isNatsSubject(subject)) {
                    counted.add("target.subject", "must be dot-separated tokens without '*', '>' or white space "
                            + "(a subject to publish to, not a wildcard), at most 1024 characters, was \""
                            + abbreviate(subject) + "\"");
                }
                Map<String, String> headers = headers(target.get("headers"), type, counted);
                yield connection == null || subject == null || headers == null ? null
                        : new NatsTarget(connection, subject, headers);
            }
            case REDIS -> {
                String stream = required(target, "stream", counted);
                if (stream != null && stream.length() > MAX_KEY_LENGTH) {
                    counted.add("target.stream", "must be at most " + MAX_KEY_LENGTH + " characters");
                }
                yield connection == null || stream == null ? null : new RedisTarget(connection, stream);
            }
        };
        return counted.count == 0 ? result : null;
    }

    /** Counts the problems it passes on, so that {@link #read} knows whether there were any. */
    private static final class Counted implements Problems {
        private final Problems to;
        int count;

        Counted(Problems to) {
            this.to = to;
        }

        @Override
        public void add(String field, String message) {
            count++;
            to.add(field, message);
        }
    }

    private static String connection(JsonNode node, QueueType type, Map<String, QueueConnection> connections,
            Problems problems) {
        if (node == null || node.isNull()) {
            problems.add("target.connection", "is required: the name of a " + type.id() + " connection"
                    + known(type, connections));
            return null;
        }
        if (!node.isTextual()) {
            problems.add("target.connection", "must be a string, was " + kind(node));
            return null;
        }
        QueueConnection connection = connections.get(node.textValue());
        if (connection == null) {
            problems.add("target.connection", "\"" + abbreviate(node.textValue()) + "\" is not a connection of "
                    + "this server" + known(type, connections));
            return null;
        }
        if (connection.type() != type) {
            problems.add("target.connection", "\"" + connection.name() + "\" is a " + connection.type().id()
                    + " connection, not " + type.id() + known(type, connections));
            return null;
        }
        return connection.name();
    }

    private static String known(QueueType type, Map<String, QueueConnection> connections) {
        var names = connections.values().stream().filter(c -> c.type() == type).map(QueueConnection::name)
                .sorted().toList();
        return names.isEmpty() ? " (none is configured: --connection NAME=URI)" : "; known: " + names;
    }

    private static String required(ObjectNode target, String field, Problems problems) {
        String value = requiredAllowEmpty(target, field, problems);
        if (value != null && value.isEmpty()) {
            problems.add("target." + field, "must not be empty");
            return null;
        }
        return value;
    }

    private static String requiredAllowEmpty(ObjectNode target, String field, Problems problems) {
        JsonNode node = target.get(field);
        if (node == null || node.isNull()) {
            problems.add("target." + field, "is required for a " + target.path("type").asText() + " target");
            return null;
        }
        if (!node.isTextual()) {
            problems.add("target." + field, "must be a string, was " + kind(node));
            return null;
        }
        return node.textValue();
    }

    private static String optional(ObjectNode target, String field, Problems problems) {
        JsonNode node = target.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            problems.add("target." + field, "must be a string, was " + kind(node));
            return null;
        }
        return node.textValue();
    }

    static boolean isNatsSubject(String subject) {
        if (subject.isEmpty() || subject.length() > 1024) {
            return false;
        }
        for (String token : subject.split("\\.", -1)) {
            if (!NATS_TOKEN.matcher(token).matches()) {
                return false;
            }
        }
        return true;
    }

    /** Headers: an object of string values, names not reserved for Hourglass or the system. Null when wrong. */
    private static Map<String, String> headers(JsonNode node, QueueType type, Problems problems) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return headers;
        }
        if (!node.isObject()) {
            problems.add("target.headers", "must be an object of header names to string values, was " + kind(node));
            return null;
        }
        if (node.size() > MAX_HEADERS) {
            problems.add("target.headers", "must have at most " + MAX_HEADERS + " headers");
            return null;
        }
        Counted counted = new Counted(problems);
        Set<String> seen = new HashSet<>();
        node.properties().forEach(e -> {
            String name = e.getKey();
            JsonNode value = e.getValue();
            String reserved = reservedBy(name, type);
            if (name.isEmpty() || name.length() > MAX_HEADER_NAME_LENGTH || !printableAscii(name, type)) {
                counted.add("target.headers", "\"" + abbreviate(name) + "\" is not a valid header name: 1-"
                        + MAX_HEADER_NAME_LENGTH + " printable ASCII characters"
                        + (type == QueueType.NATS ? " without ':' or spaces" : ""));
            } else if (reserved != null) {
                counted.add("target.headers", "must not set " + name + ": " + reserved);
            } else if (!seen.add(name.toLowerCase(Locale.ROOT))) {
                counted.add("target.headers", "sets " + name + " twice (header names are case-insensitive)");
            } else if (!value.isTextual()) {
                counted.add("target.headers", "the value of " + name + " must be a string, was " + kind(value));
            } else if (value.textValue().length() > MAX_HEADER_VALUE_LENGTH
                    || value.textValue().chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                counted.add("target.headers", "the value of " + name + " must be at most " + MAX_HEADER_VALUE_LENGTH
                        + " characters without control characters");
            } else {
                headers.put(name, value.textValue());
            }
        });
        return counted.count == 0 ? headers : null;
    }

    private static boolean printableAscii(String name, QueueType type) {
        return name.chars().allMatch(c -> c > 0x20 && c < 0x7f && !(type == QueueType.NATS && c == ':'));
    }

    /** Why a header name may not be set, or null when it may. */
    static String reservedBy(String name, QueueType type) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.startsWith("hourglass-") || lower.equals("idempotency-key") || lower.equals("traceparent")) {
            return "Hourglass sets it on every message";
        }
        if (type == QueueType.NATS && lower.startsWith("nats-")) {
            return "NATS reserves Nats-* headers (Hourglass sets Nats-Msg-Id)";
        }
        if (type == QueueType.RABBITMQ && lower.startsWith("x-")) {
            return "RabbitMQ interprets x-* headers itself";
        }
        return null;
    }

    /** The stored form: compact JSON, fields in a fixed order, headers sorted, omitted when there are none. */
    public static String toJson(QueueTarget target) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", target.type().id());
        node.put("connection", target.connection());
        switch (target) {
            case KafkaTarget k -> {
                node.put("topic", k.topic());
                if (k.key() != null) {
                    node.put("key", k.key());
                }
            }
            case RabbitMqTarget r -> {
                node.put("exchange", r.exchange());
                node.put("routingKey", r.routingKey());
            }
            case NatsTarget n -> node.put("subject", n.subject());
            case RedisTarget r -> node.put("stream", r.stream());
        }
        if (!target.headers().isEmpty()) {
            ObjectNode h = node.putObject("headers");
            new TreeMap<>(target.headers()).forEach(h::put);
        }
        return node.toString();
    }

    /**
     * Reads a stored target back.
     *
     * @throws IllegalArgumentException if the text is not a queue target of {@code expected}
     */
    public static QueueTarget fromJson(String text, QueueType expected) {
        if (text == null) {
            throw new IllegalArgumentException("the job has no target");
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the target is not JSON: " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode object) || !expected.id().equals(node.path("type").asText(null))) {
            throw new IllegalArgumentException("the target is not of type " + expected.id());
        }
        String connection = text(object, "connection");
        Map<String, String> headers = new LinkedHashMap<>();
        if (object.get("headers") instanceof ObjectNode h) {
            h.properties().forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
        }
        return switch (expected) {
            case KAFKA -> new KafkaTarget(connection, text(object, "topic"),
                    object.hasNonNull("key") ? object.get("key").asText() : null, headers);
            case RABBITMQ -> new RabbitMqTarget(connection, text(object, "exchange"), text(object, "routingKey"),
                    headers);
            case NATS -> new NatsTarget(connection, text(object, "subject"), headers);
            case REDIS -> new RedisTarget(connection, text(object, "stream"));
        };
    }

    private static String text(ObjectNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("the target has no " + field);
        }
        return value.textValue();
    }

    private static String kind(JsonNode node) {
        return node.isNull() ? "null" : node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static String abbreviate(String text) {
        return text.length() <= 64 ? text : text.substring(0, 61) + "...";
    }
}
