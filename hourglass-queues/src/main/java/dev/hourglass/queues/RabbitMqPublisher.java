package dev.hourglass.queues;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Method;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Publishes to RabbitMQ with {@code amqp-client}: persistent messages, {@code mandatory} so that a message no queue
 * takes comes back instead of vanishing, and publisher confirms so that success means the broker took it.
 *
 * <p>Each publish borrows a channel of its own from a pool (a channel in confirm mode, with a return listener),
 * publishes, and waits for the confirm; the broker sends a {@code basic.return} before the {@code basic.ack} of an
 * unroutable message, so a return seen by the time the ack arrives belongs to this publish. A channel the broker
 * closed (an unknown exchange) is dropped; a lost connection is replaced by the next publish (automatic recovery is
 * off, so nothing is replayed behind the engine's back).
 */
final class RabbitMqPublisher implements Publisher {
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int HEARTBEAT_SECONDS = 30;

    private final QueueConnection connection;
    private final ConnectionFactory factory;
    /** Guarded by {@code this}: the connection in use, null before the first publish and after a loss. */
    private Connection amqp;
    private final LinkedBlockingQueue<PooledChannel> idle = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    /** A channel in confirm mode, and the message returned to it by the publish in progress (one at a time). */
    private record PooledChannel(Channel channel, AtomicReference<Return> returned) {}

    RabbitMqPublisher(QueueConnection connection) {
        this.connection = connection;
        this.factory = new ConnectionFactory();
        try {
            factory.setUri(connection.uri());
        } catch (Exception e) {
            throw new IllegalArgumentException("connection '" + connection.name() + "': not a RabbitMQ URI: "
                    + connection.redacted());
        }
        factory.setAutomaticRecoveryEnabled(false);
        factory.setTopologyRecoveryEnabled(false);
        factory.setConnectionTimeout(CONNECT_TIMEOUT_MS);
        factory.setRequestedHeartbeat(HEARTBEAT_SECONDS);
    }

    @Override
    public PublishResult publish(QueueTarget target, QueueMessage message, Duration timeout)
            throws InterruptedException {
        RabbitMqTarget to = (RabbitMqTarget) target;
        PooledChannel pooled;
        try {
            pooled = borrow();
        } catch (IOException | TimeoutException | RuntimeException e) {
            return new PublishResult.Unavailable("cannot connect to RabbitMQ '" + connection.name() + "' ("
                    + connection.redacted() + "): " + describe(e));
        }
        boolean reusable = false;
        try {
            pooled.returned().set(null);
            pooled.channel().basicPublish(to.exchange(), to.routingKey(), true, properties(to, message),
                    message.body());
            pooled.channel().waitForConfirmsOrDie(Math.max(1, timeout.toMillis()));
            Return returned = pooled.returned().get();
            reusable = true;
            if (returned != null) {
                return new PublishResult.Refused("RabbitMQ returned the message as unroutable: no queue is bound "
                        + "to exchange '" + to.exchange() + "' for routing key '" + to.routingKey() + "' ("
                        + returned.getReplyCode() + " " + returned.getReplyText() + ")");
            }
            return new PublishResult.Accepted(to.exchange() + "/" + to.routingKey());
        } catch (TimeoutException e) {
            return new PublishResult.TimedOut("RabbitMQ did not confirm the message within " + timeout.toMillis()
                    + " ms");
        } catch (IOException | ShutdownSignalException e) {
            return failure(to, e);
        } finally {
            if (reusable && pooled.channel().isOpen() && !closed) {
                idle.add(pooled);
            } else {
                closeQuietly(pooled.channel());
            }
        }
    }

    /**
     * A channel closed by the broker for this message (404 no such exchange, 403 access refused) is a refusal;
     * a closed connection, a nack, anything else is worth retrying.
     */
    private PublishResult failure(RabbitMqTarget to, Exception e) {
        ShutdownSignalException shutdown = e instanceof ShutdownSignalException s ? s
                : e.getCause() instanceof ShutdownSignalException s ? s : null;
        if (shutdown != null && !shutdown.isHardError() && shutdown.getReason() instanceof AMQP.Channel.Close close
                && (close.getReplyCode() == AMQP.NOT_FOUND || close.getReplyCode() == AMQP.ACCESS_REFUSED)) {
            return new PublishResult.Refused("RabbitMQ refused the message: " + close.getReplyCode() + " "
                    + close.getReplyText());
        }
        if (shutdown != null && shutdown.isHardError()) {
            dropConnection();
        }
        return new PublishResult.Unavailable("RabbitMQ '" + connection.name() + "' did not take the message to "
                + "exchange '" + to.exchange() + "': " + describe(e));
    }

    private static AMQP.BasicProperties properties(RabbitMqTarget to, QueueMessage message) {
        Map<String, Object> headers = new HashMap<>(to.headers());
        headers.putAll(message.identity());
        return new AMQP.BasicProperties.Builder()
                .deliveryMode(2) // persistent
                .contentType("application/json")
                .messageId(message.dedupKey())
                .headers(headers)
                .build();
    }

    private PooledChannel borrow() throws IOException, TimeoutException {
        PooledChannel pooled;
        while ((pooled = idle.poll()) != null) {
            if (pooled.channel().isOpen()) {
                return pooled;
            }
        }
        Channel channel = connection().createChannel();
        if (channel == null) {
            throw new IOException("the connection has no free channel");
        }
        channel.confirmSelect();
        AtomicReference<Return> returned = new AtomicReference<>();
        channel.addReturnListener(returned::set);
        return new PooledChannel(channel, returned);
    }

    private synchronized Connection connection() throws IOException, TimeoutException {
        if (closed) {
            throw new IOException("the publisher is closed");
        }
        if (amqp == null || !amqp.isOpen()) {
            idle.clear();
            amqp = factory.newConnection("hourglass");
        }
        return amqp;
    }

    private synchronized void dropConnection() {
        if (amqp != null) {
            try {
                amqp.abort(1_000);
            } finally {
                amqp = null;
                idle.clear();
            }
        }
    }

    private static void closeQuietly(Channel channel) {
        if (channel.isOpen()) {
            try {
                channel.abort();
            } catch (IOException | RuntimeException ignored) {
                // The channel is dropped either way.
            }
        }
    }

    private static String describe(Throwable e) {
        if (e instanceof ShutdownSignalException s && s.getReason() instanceof Method m) {
            return s.isHardError() ? "connection closed (" + m.protocolMethodName() + ")" : s.getMessage();
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = root.getMessage() == null ? root.getClass().getSimpleName()
                : root.getClass().getSimpleName() + ": " + root.getMessage();
        return text;
    }

    @Override
    public void close() {
        closed = true;
        dropConnection();
    }
}
