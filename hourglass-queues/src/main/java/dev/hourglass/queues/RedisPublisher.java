package dev.hourglass.queues;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Appends to a Redis stream with {@code lettuce-core}: one {@code XADD} per attempt, whose returned entry id is the
 * success. The entry's fields are {@code payload} (the body) and the identifying fields in lower case
 * ({@code hourglass-job-id}, {@code hourglass-attempt}, ...).
 *
 * <p>Redis acknowledges a write once it is in memory; whether it survives a Redis crash depends on the server's
 * persistence ({@code appendonly yes}, {@code appendfsync}), which is the operator's to set (docs/guarantees.md).
 * While disconnected, commands are rejected at once rather than queued by the client.
 */
final class RedisPublisher implements Publisher {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final String PAYLOAD_FIELD = "payload";

    private final QueueConnection connection;
    private final RedisClient client;
    /** Guarded by {@code this}: the connection, null until the first publish connects. */
    private StatefulRedisConnection<byte[], byte[]> redis;

    RedisPublisher(QueueConnection connection) {
        this.connection = connection;
        RedisURI uri = RedisURI.create(connection.uri());
        uri.setTimeout(Duration.ofSeconds(30));
        this.client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).build())
                .build());
    }

    @Override
    public PublishResult publish(QueueTarget target, QueueMessage message, Duration timeout)
            throws InterruptedException {
        RedisTarget to = (RedisTarget) target;
        StatefulRedisConnection<byte[], byte[]> conn;
        try {
            conn = connection();
        } catch (RedisConnectionException e) {
            return new PublishResult.Unavailable("cannot connect to Redis '" + connection.name() + "' ("
                    + connection.redacted() + "): " + rootMessage(e));
        }
        Map<byte[], byte[]> fields = new LinkedHashMap<>();
        fields.put(utf8(PAYLOAD_FIELD), message.body());
        message.identity().forEach((name, value) -> fields.put(utf8(name.toLowerCase(Locale.ROOT)), utf8(value)));
        try {
            RedisFuture<String> id = conn.async().xadd(utf8(to.stream()), fields);
            return new PublishResult.Accepted(to.stream() + "#" + id.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            return new PublishResult.TimedOut("Redis did not answer XADD within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            return failure(to, e.getCause());
        } catch (RedisConnectionException e) {
            return failure(to, e);
        }
    }

    /** An error reply (wrong type, no permission, out of memory with noeviction) is a refusal; the rest a retry. */
    private PublishResult failure(RedisTarget to, Throwable e) {
        if (e instanceof RedisCommandExecutionException command) {
            String text = String.valueOf(command.getMessage());
            if (text.startsWith("OOM") || text.startsWith("LOADING") || text.startsWith("BUSY")
                    || text.startsWith("TRYAGAIN") || text.startsWith("MASTERDOWN") || text.startsWith("READONLY")) {
                return new PublishResult.Unavailable("Redis '" + connection.name() + "' cannot take writes now: "
                        + text);
            }
            return new PublishResult.Refused("Redis refused XADD to '" + to.stream() + "': " + text);
        }
        return new PublishResult.Unavailable("Redis '" + connection.name() + "' did not take the entry: "
                + rootMessage(e));
    }

    private synchronized StatefulRedisConnection<byte[], byte[]> connection() {
        if (redis == null) {
            redis = client.connect(ByteArrayCodec.INSTANCE);
        }
        return redis;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    @Override
    public synchronized void close() {
        if (redis != null) {
            redis.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
