package dev.hourglass.queues;

import java.util.Map;

/**
 * Where a queue job is delivered: a destination on a named connection, stored as JSON in {@code Job.target()}
 * ({@link QueueTargets}). One record per system; each is a value, checked when built.
 */
public sealed interface QueueTarget permits KafkaTarget, RabbitMqTarget, NatsTarget, RedisTarget {

    QueueType type();

    /** The name of the connection ({@link QueueConnection#name()}). */
    String connection();

    /** Headers the message carries besides Hourglass's own; empty for Redis, whose entries carry fields only. */
    Map<String, String> headers();

    /** The destination within the connection: a topic, {@code exchange/routingKey}, a subject, a stream. */
    String destination();

    /**
     * The target as deliveries name it (the delivery history, the target monitor):
     * {@code type://connection/destination}, so every job to one destination counts toward one alarm.
     */
    default String name() {
        return type().id() + "://" + connection() + "/" + destination();
    }

    /** The stored form ({@link QueueTargets#toJson}). */
    default String toJson() {
        return QueueTargets.toJson(this);
    }
}
