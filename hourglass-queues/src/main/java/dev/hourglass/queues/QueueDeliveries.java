package dev.hourglass.queues;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.JobRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Queue delivery for an engine: one publisher per named connection and one job handler per queue type. The
 * library registers the handlers ({@link #handlers()}) and schedules with {@link #job}; the server does the same
 * and checks API targets with {@link #read}.
 *
 * <pre>{@code
 * QueueDeliveries queues = QueueDeliveries.of(List.of(QueueConnection.parse("mq=amqp://127.0.0.1:5672")),
 *         Duration.ofSeconds(30));
 * Hourglass.Builder builder = Hourglass.builder().store(store);
 * queues.handlers().forEach(builder::handler);
 * Hourglass hourglass = builder.build();
 * hourglass.schedule(queues.job(new RabbitMqTarget("mq", "orders", "due"), payload), When.after(Duration.ofMinutes(5)));
 * }</pre>
 *
 * <p>Publishers connect on first use, so building this never waits for a broker.
 */
public final class QueueDeliveries implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, QueueConnection> connections;
    private final Map<String, Publisher> publishers;
    private final Duration defaultTimeout;

    private QueueDeliveries(Map<String, QueueConnection> connections, Map<String, Publisher> publishers,
            Duration defaultTimeout) {
        this.connections = connections;
        this.publishers = publishers;
        this.defaultTimeout = defaultTimeout;
    }

    /**
     * @param connections the named connections (names unique)
     * @param defaultTimeout how long a publish waits for the broker when the job sets no timeout
     */
    public static QueueDeliveries of(List<QueueConnection> connections, Duration defaultTimeout) {
        Map<String, QueueConnection> byName = QueueConnection.byName(connections);
        Map<String, Publisher> publishers = new LinkedHashMap<>();
        byName.values().forEach(c -> publishers.put(c.name(), publisherOf(c)));
        return new QueueDeliveries(Map.copyOf(byName), publishers, defaultTimeout);
    }

    private static Publisher publisherOf(QueueConnection connection) {
        return switch (connection.type()) {
            case KAFKA -> new KafkaPublisher(connection);
            case RABBITMQ -> new RabbitMqPublisher(connection);
            case NATS -> new NatsPublisher(connection);
            case REDIS -> new RedisPublisher(connection);
        };
    }

    /** The named connections. */
    public Map<String, QueueConnection> connections() {
        return connections;
    }

    /**
     * A handler for every queue type, by type name ({@code kafka}, {@code rabbitmq}, {@code nats}, {@code redis}):
     * register each on the engine under its name. A type without connections still gets one, so that its jobs
     * retry with a clear error instead of failing as jobs of an unknown handler.
     */
    public Map<String, JobHandler> handlers() {
        Map<String, JobHandler> handlers = new LinkedHashMap<>();
        Map<QueueType, Map<String, Publisher>> byType = new EnumMap<>(QueueType.class);
        for (QueueType type : QueueType.values()) {
            byType.put(type, new LinkedHashMap<>());
        }
        connections.values().forEach(c -> byType.get(c.type()).put(c.name(), publishers.get(c.name())));
        byType.forEach((type, pubs) -> handlers.put(type.id(), new QueueHandler(type, pubs, defaultTimeout)));
        return handlers;
    }

    /**
     * A job that delivers {@code payload} to {@code target}, checked as an API target would be.
     *
     * @throws IllegalArgumentException naming each problem
     */
    public JobRequest job(QueueTarget target, byte[] payload) {
        List<String> problems = new ArrayList<>();
        BiConsumer<String, String> add = (field, message) -> problems.add(field + " " + message);
        QueueTargets.read((ObjectNode) readTree(target.toJson()), connections, payload.length, add::accept);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return JobRequest.of(target.type().id(), payload).withTarget(target.toJson());
    }

    private static com.fasterxml.jackson.databind.JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Closes every connection. */
    @Override
    public void close() {
        publishers.values().forEach(Publisher::close);
    }
}
