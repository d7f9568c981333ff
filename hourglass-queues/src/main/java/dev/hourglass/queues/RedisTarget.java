package dev.hourglass.queues;

import java.util.Map;
import java.util.Objects;

/** A Redis stream, appended to with {@code XADD}. */
public record RedisTarget(String connection, String stream) implements QueueTarget {
    public RedisTarget {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(stream, "stream");
    }

    @Override
    public QueueType type() {
        return QueueType.REDIS;
    }

    @Override
    public Map<String, String> headers() {
        return Map.of();
    }

    @Override
    public String destination() {
        return stream;
    }
}
