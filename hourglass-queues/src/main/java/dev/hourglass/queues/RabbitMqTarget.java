package dev.hourglass.queues;

import java.util.Map;
import java.util.Objects;

/** A RabbitMQ exchange and routing key ({@code ""} is the default exchange, which routes by queue name). */
public record RabbitMqTarget(String connection, String exchange, String routingKey, Map<String, String> headers)
        implements QueueTarget {
    public RabbitMqTarget {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(exchange, "exchange");
        Objects.requireNonNull(routingKey, "routingKey");
        headers = Map.copyOf(headers == null ? Map.of() : headers);
    }

    public RabbitMqTarget(String connection, String exchange, String routingKey) {
        this(connection, exchange, routingKey, Map.of());
    }

    @Override
    public QueueType type() {
        return QueueType.RABBITMQ;
    }

    @Override
    public String destination() {
        return exchange + "/" + routingKey;
    }
}
