package dev.hourglass.queues;

import java.util.Map;
import java.util.Objects;

/** A NATS subject that a JetStream stream captures. */
public record NatsTarget(String connection, String subject, Map<String, String> headers) implements QueueTarget {
    public NatsTarget {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(subject, "subject");
        headers = Map.copyOf(headers == null ? Map.of() : headers);
    }

    public NatsTarget(String connection, String subject) {
        this(connection, subject, Map.of());
    }

    @Override
    public QueueType type() {
        return QueueType.NATS;
    }

    @Override
    public String destination() {
        return subject;
    }
}
