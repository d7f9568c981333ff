package dev.hourglass.queues;

import java.util.Map;
import java.util.Objects;

/**
 * A Kafka topic. {@code key} is the record key; null means the job id, so that every attempt of a job lands in the
 * same partition.
 */
public record KafkaTarget(String connection, String topic, String key, Map<String, String> headers)
        implements QueueTarget {
    public KafkaTarget {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(topic, "topic");
        headers = Map.copyOf(headers == null ? Map.of() : headers);
    }

    public KafkaTarget(String connection, String topic) {
        this(connection, topic, null, Map.of());
    }

    @Override
    public QueueType type() {
        return QueueType.KAFKA;
    }

    @Override
    public String destination() {
        return topic;
    }
}
