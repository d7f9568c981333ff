package dev.hourglass.queues;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamOptions;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.io.IOException;
import java.time.Duration;

/**
 * Publishes to NATS JetStream with {@code jnats}: a JetStream publish, which succeeds only on the stream's
 * acknowledgement, with {@code Nats-Msg-Id} set to the message's dedup key ({@link QueueMessage#dedupKey()}), the
 * same for every attempt of a job, so that the stream's duplicate window drops a repeated delivery (the ack then
 * says duplicate, which is a success too: the stream holds the message).
 *
 * <p>The connection is made on first use and reconnects by itself; while it is not connected a publish is
 * {@link PublishResult.Unavailable} at once rather than buffered by the client for later.
 */
final class NatsPublisher implements Publisher {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RECONNECT_WAIT = Duration.ofMillis(500);
    private static final Duration PING_INTERVAL = Duration.ofSeconds(2);

    private final QueueConnection connection;
    /** Guarded by {@code this}: the connection, null until the first publish connects. */
    private Connection nats;
    private volatile boolean closed;

    NatsPublisher(QueueConnection connection) {
        this.connection = connection;
    }

    @Override
    public PublishResult publish(QueueTarget target, QueueMessage message, Duration timeout)
            throws InterruptedException {
        NatsTarget to = (NatsTarget) target;
        Connection nc;
        try {
            nc = connection();
        } catch (IOException | RuntimeException e) {
            return new PublishResult.Unavailable("cannot connect to NATS '" + connection.name() + "' ("
                    + connection.redacted() + "): " + describe(e));
        }
        if (nc.getStatus() != Connection.Status.CONNECTED) {
            return new PublishResult.Unavailable("NATS '" + connection.name() + "' is " + nc.getStatus()
                    .name().toLowerCase(java.util.Locale.ROOT));
        }
        Headers headers = new Headers();
        to.headers().forEach(headers::add);
        message.identity().forEach(headers::add);
        NatsMessage msg = NatsMessage.builder().subject(to.subject()).headers(headers).data(message.body()).build();
        try {
            JetStream js = nc.jetStream(JetStreamOptions.builder().requestTimeout(timeout).build());
            PublishAck ack = js.publish(msg, PublishOptions.builder().messageId(message.dedupKey()).build());
            return new PublishResult.Accepted(ack.getStream() + "#" + ack.getSeqno()
                    + (ack.isDuplicate() ? " (duplicate)" : ""));
        } catch (JetStreamApiException e) {
            return new PublishResult.Refused("NATS JetStream refused the message to '" + to.subject() + "': "
                    + e.getMessage());
        } catch (IOException e) {
            return failure(to, nc, e);
        } catch (IllegalStateException e) {
            return new PublishResult.Unavailable("NATS '" + connection.name() + "': " + e.getMessage());
        }
    }

    private PublishResult failure(NatsTarget to, Connection nc, IOException e) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("No Responders") || text.contains("503")) {
            // Connected, but nothing answers on the subject: no stream captures it (yet). Retried, since a stream
            // may be added; lastError says what to fix.
            return new PublishResult.Unavailable("no JetStream stream captures subject '" + to.subject() + "' on NATS '"
                    + connection.name() + "' (503 no responders)");
        }
        if (nc.getStatus() != Connection.Status.CONNECTED) {
            return new PublishResult.Unavailable("NATS '" + connection.name() + "' lost the connection: " + text);
        }
        return new PublishResult.TimedOut("NATS JetStream did not acknowledge the message to '" + to.subject()
                + "': " + text);
    }

    private synchronized Connection connection() throws IOException, InterruptedException {
        if (closed) {
            throw new IOException("the publisher is closed");
        }
        if (nats == null || nats.getStatus() == Connection.Status.CLOSED) {
            Options options = new Options.Builder()
                    .server(connection.uri().toString())
                    .connectionName("hourglass")
                    .connectionTimeout(CONNECT_TIMEOUT)
                    .maxReconnects(-1) // forever: the publisher outlives any outage
                    .ignoreDiscoveredServers() // only the servers the operator named
                    .reconnectWait(RECONNECT_WAIT)
                    // A connection that went silent (a hung network) is given up after two unanswered pings.
                    .pingInterval(PING_INTERVAL)
                    .maxPingsOut(2)
                    .errorListener(new QuietErrors())
                    .build();
            nats = Nats.connect(options);
        }
        return nats;
    }

    private static String describe(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (nats != null) {
            try {
                nats.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** jnats reports connection trouble on stderr by default; each failed publish says it in its own result. */
    private static final class QuietErrors implements io.nats.client.ErrorListener {}
}
