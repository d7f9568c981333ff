package dev.hourglass.queues;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes to Kafka with {@code kafka-clients}: one idempotent producer per connection ({@code acks=all},
 * {@code enable.idempotence=true}), so that the producer's own retries never write a record twice, and success
 * means every in-sync replica has the record. The record key is the target's, else the job id, so all attempts of
 * a job go to one partition; the identifying fields travel as record headers.
 *
 * <p>The producer connects in the background and reconnects by itself. A send waits at most
 * {@value #MAX_BLOCK_MS} ms for the topic's metadata: a topic that does not exist, or a cluster that cannot be
 * reached, is then a retry whose error says so.
 */
final class KafkaPublisher implements Publisher {
    static final int MAX_BLOCK_MS = 5_000;
    static final int REQUEST_TIMEOUT_MS = 10_000;
    static final int DELIVERY_TIMEOUT_MS = 30_000;

    private final QueueConnection connection;
    /** Guarded by {@code this}: made on first use, so that a server starts without its brokers. */
    private Producer<byte[], byte[]> producer;
    private volatile boolean closed;

    KafkaPublisher(QueueConnection connection) {
        if (connection.uri().getRawUserInfo() != null) {
            throw new IllegalArgumentException("connection '" + connection.name() + "': Kafka connections take no "
                    + "credentials in the URI yet (plaintext listeners only)");
        }
        this.connection = connection;
    }

    /** The producer's settings; the bootstrap servers are the URI's authority ({@code kafka://h1:9092,h2:9092}). */
    static Map<String, Object> settings(QueueConnection connection) {
        return Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, connection.uri().getRawAuthority(),
                ProducerConfig.CLIENT_ID_CONFIG, "hourglass-" + connection.name(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, DELIVERY_TIMEOUT_MS,
                ProducerConfig.LINGER_MS_CONFIG, 1, // a little batching across the attempts in flight
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    }

    @Override
    public PublishResult publish(QueueTarget target, QueueMessage message, Duration timeout)
            throws InterruptedException {
        KafkaTarget to = (KafkaTarget) target;
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(to.topic(), null,
                utf8(to.key() != null ? to.key() : message.jobId()), message.body());
        to.headers().forEach((name, value) -> record.headers().add(new RecordHeader(name, utf8(value))));
        message.identity().forEach((name, value) -> record.headers().add(new RecordHeader(name, utf8(value))));
        try {
            RecordMetadata sent = producer().send(record).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new PublishResult.Accepted(sent.topic() + "-" + sent.partition() + "@" + sent.offset());
        } catch (TimeoutException e) {
            return new PublishResult.TimedOut("Kafka did not acknowledge the record within " + timeout.toMillis()
                    + " ms");
        } catch (ExecutionException e) {
            return failure(to, e.getCause());
        } catch (KafkaException e) { // thrown by send() itself: metadata wait, serialization, a closed producer
            return failure(to, e);
        }
    }

    /** Authorisation, an invalid topic and a record too large are refusals; retriable errors are retries. */
    private PublishResult failure(KafkaTarget to, Throwable e) {
        String text = e.getClass().getSimpleName() + ": " + e.getMessage();
        if (e instanceof AuthorizationException || e instanceof InvalidTopicException
                || e instanceof RecordTooLargeException) {
            return new PublishResult.Refused("Kafka refused the record to topic '" + to.topic() + "': " + text);
        }
        if (e instanceof org.apache.kafka.common.errors.TimeoutException
                && e.getCause() instanceof UnknownTopicOrPartitionException) {
            // Retried, since the topic may be created; lastError says what to fix.
            return new PublishResult.Unavailable("topic '" + to.topic() + "' does not exist on Kafka '"
                    + connection.name() + "' (and the cluster does not create topics on first use)");
        }
        if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
            return new PublishResult.Unavailable("Kafka '" + connection.name() + "' (" + connection.redacted()
                    + ") did not take the record to topic '" + to.topic() + "' (is the cluster reachable, does the "
                    + "topic exist?): " + text);
        }
        if (e instanceof RetriableException) {
            return new PublishResult.Unavailable("Kafka '" + connection.name() + "': " + text);
        }
        return new PublishResult.Unavailable("Kafka '" + connection.name() + "' failed to send: " + text);
    }

    private synchronized Producer<byte[], byte[]> producer() {
        if (closed) {
            throw new KafkaException("the publisher is closed");
        }
        if (producer == null) {
            producer = new KafkaProducer<>(settings(connection));
        }
        return producer;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (producer != null) {
            producer.close(Duration.ofSeconds(2));
        }
    }
}
