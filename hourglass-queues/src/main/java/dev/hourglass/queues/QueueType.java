package dev.hourglass.queues;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The message systems a job can be delivered to. Each type is also the name its job handler is registered under
 * (a job scheduled to a Kafka topic has handler {@code kafka}), the {@code target_type} of its deliveries in the
 * metrics, and the {@code type} of its target JSON.
 *
 * @param schemes the connection URI schemes that name this system ({@code amqp://...} is RabbitMQ)
 * @param maxPayloadBytes the largest message body the system takes with its default settings: Kafka's
 *     {@code max.request.size} and NATS's {@code max_payload} (1 MiB, less room for the headers), RabbitMQ's
 *     default {@code max_message_size} (16 MiB) and Redis's bulk string limit (512 MB)
 */
public enum QueueType {
    KAFKA("kafka", Set.of("kafka"), 1_000_000),
    RABBITMQ("rabbitmq", Set.of("amqp", "amqps"), 16 * 1024 * 1024),
    NATS("nats", Set.of("nats", "tls"), 1_000_000),
    REDIS("redis", Set.of("redis", "rediss"), 512 * 1024 * 1024);

    private final String id;
    private final Set<String> schemes;
    private final int maxPayloadBytes;

    QueueType(String id, Set<String> schemes, int maxPayloadBytes) {
        this.id = id;
        this.schemes = schemes;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** The type's name: in target JSON, as handler name and as metrics label. */
    public String id() {
        return id;
    }

    public int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    public static Optional<QueueType> ofId(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }

    /** The type whose URIs start with {@code scheme}, case-insensitively. */
    public static Optional<QueueType> ofScheme(String scheme) {
        String lower = scheme == null ? "" : scheme.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(t -> t.schemes.contains(lower)).findFirst();
    }

    /** Every scheme, for error messages: {@code amqp, amqps, kafka, nats, redis, rediss, tls}. */
    public static String allSchemes() {
        return Arrays.stream(values()).flatMap(t -> t.schemes.stream()).sorted().collect(Collectors.joining(", "));
    }

    /** Every type's id, for error messages. */
    public static String allIds() {
        return Arrays.stream(values()).map(QueueType::id).collect(Collectors.joining(", "));
    }
}
