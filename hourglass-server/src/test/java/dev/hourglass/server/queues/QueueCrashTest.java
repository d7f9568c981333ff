package dev.hourglass.server.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.hourglass.queues.KafkaBroker;
import dev.hourglass.server.ChildServer;
import dev.hourglass.server.ServerFixture;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable before ack, never early, at-least-once, for queue targets under SIGKILL: a child JVM serves the API while
 * 8 clients schedule jobs to a queue; it is killed at a random moment, three rounds in a row, and restarted on the
 * same data directory. Every job whose 201 was received must reach the broker, never before its due time. A kill
 * between the broker's ack and the job's commit delivers that job again: duplicates are counted and printed, and on
 * NATS, whose stream drops a repeated {@code Nats-Msg-Id}, the stream must hold each job once.
 */
class QueueCrashTest {
    private static final int ROUNDS = 3;
    private static final int CLIENTS = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, Long> acknowledged = new ConcurrentHashMap<>(); // id -> dueAt ms
    private final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
    private final List<String> early = new CopyOnWriteArrayList<>();
    private final String id = UUID.randomUUID().toString().replace("-", "");
    private Process child;
    private final List<AutoCloseable> closers = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.destroyForcibly();
        }
        for (AutoCloseable c : closers.reversed()) {
            c.close();
        }
    }

    /** Counts one arrival of a job's message. */
    private void arrived(String jobId, String dueAt, long arrivedMillis) {
        if (jobId == null || dueAt == null) {
            return;
        }
        deliveries.computeIfAbsent(jobId, k -> new AtomicInteger()).incrementAndGet();
        if (arrivedMillis < Instant.parse(dueAt).toEpochMilli()) {
            early.add(jobId + " arrived " + arrivedMillis + " due " + dueAt);
        }
    }

    @Test
    void rabbitMq() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri("amqp://guest:guest@127.0.0.1:5672");
        com.rabbitmq.client.Connection connection = factory.newConnection();
        closers.add(connection);
        Channel channel = connection.createChannel();
        String queue = "hg-crash-" + id;
        channel.queueDeclare(queue, false, false, true, null);
        channel.basicConsume(queue, true, new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                Map<String, Object> h = props.getHeaders();
                arrived(String.valueOf(h.get("Hourglass-Job-Id")), String.valueOf(h.get("Hourglass-Due-At")),
                        System.currentTimeMillis());
            }
        });
        run("q=amqp://guest:guest@127.0.0.1:5672",
                "{\"type\": \"rabbitmq\", \"connection\": \"q\", \"exchange\": \"\", \"routingKey\": \"" + queue + "\"}");
    }

    @Test
    void natsJetStream() throws Exception {
        io.nats.client.Connection nats = Nats.connect("nats://127.0.0.1:4222");
        closers.add(nats::close);
        JetStreamManagement jsm = nats.jetStreamManagement();
        String stream = "HGCRASH_" + id;
        jsm.addStream(StreamConfiguration.builder().name(stream).subjects("hgcrash." + id + ".>")
                .storageType(StorageType.Memory).duplicateWindow(Duration.ofMinutes(2)).build());
        closers.add(() -> jsm.deleteStream(stream));
        nats.createDispatcher(m -> arrived(m.getHeaders().getFirst("Hourglass-Job-Id"),
                m.getHeaders().getFirst("Hourglass-Due-At"), System.currentTimeMillis())).subscribe("hgcrash." + id + ".>");
        run("q=nats://127.0.0.1:4222", "{\"type\": \"nats\", \"connection\": \"q\", \"subject\": \"hgcrash." + id + ".due\"}");
        long stored = jsm.getStreamInfo(stream).getStreamState().getMsgCount();
        System.out.printf("nats: the stream holds %d messages for %d jobs%n", stored, deliveries.size());
        assertThat(stored).as("the duplicate window keeps each job once").isEqualTo(deliveries.size());
    }

    @Test
    void redisStreams() throws Exception {
        RedisClient client = RedisClient.create("redis://127.0.0.1:6379/0");
        closers.add(client::shutdown);
        StatefulRedisConnection<String, String> redis = client.connect();
        String stream = "hgcrash:" + id;
        closers.add(() -> redis.sync().del(stream));
        AtomicBoolean reading = new AtomicBoolean(true);
        closers.add(() -> reading.set(false));
        Thread.ofVirtual().start(() -> { // reads the stream as it grows; an entry's id is Redis's time of XADD
            String after = "0-0";
            while (reading.get()) { // XREAD waits up to 100 ms for entries after the last one read
                List<StreamMessage<String, String>> entries = redis.sync().xread(
                        XReadArgs.Builder.block(Duration.ofMillis(100)), XReadArgs.StreamOffset.from(stream, after));
                for (StreamMessage<String, String> e : entries) {
                    arrived(e.getBody().get("hourglass-job-id"), e.getBody().get("hourglass-due-at"),
                            Long.parseLong(e.getId().substring(0, e.getId().indexOf('-'))));
                    after = e.getId();
                }
            }
        });
        run("q=redis://127.0.0.1:6379/0", "{\"type\": \"redis\", \"connection\": \"q\", \"stream\": \"" + stream + "\"}");
    }

    @Test
    void kafka() throws Exception {
        KafkaBroker broker = KafkaBroker.start(dir.resolve("kafka"));
        closers.add(broker);
        String topic = "hg-crash-" + id;
        broker.createTopic(topic, 2);
        AtomicBoolean reading = new AtomicBoolean(true);
        closers.add(() -> reading.set(false));
        Thread consumer = Thread.ofPlatform().start(() -> {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap(),
                    ConsumerConfig.GROUP_ID_CONFIG, "crash-" + id,
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
                c.subscribe(List.of(topic));
                while (reading.get()) {
                    c.poll(Duration.ofMillis(100)).forEach(r -> arrived(header(r, "Hourglass-Job-Id"),
                            header(r, "Hourglass-Due-At"), r.timestamp()));
                }
            }
        });
        closers.add(() -> consumer.join(10_000));
        run("q=kafka://" + broker.bootstrap(), "{\"type\": \"kafka\", \"connection\": \"q\", \"topic\": \"" + topic + "\"}");
    }

    private static String header(org.apache.kafka.clients.consumer.ConsumerRecord<String, String> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Rounds of load and SIGKILL on {@code connection}, then a last start, and the checks. */
    private void run(String connection, String target) throws Exception {
        Random random = new Random(7);
        Path data = dir.resolve("data");
        for (int round = 1; round <= ROUNDS; round++) {
            int port = startChild(data, connection);
            loadThenKill(port, target, 300 + random.nextInt(1_200));
        }
        startChild(data, connection);
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                    .until(() -> acknowledged.keySet().stream().allMatch(deliveries::containsKey));
        } catch (ConditionTimeoutException e) {
            // the assertions below name what is missing
        }
        List<String> missing = acknowledged.keySet().stream().filter(j -> !deliveries.containsKey(j)).toList();
        long duplicated = deliveries.values().stream().filter(n -> n.get() > 1).count();
        System.out.printf("queue crash test (%s): %d rounds, %d acknowledged, %d delivered, %d missing, "
                + "%d delivered more than once, %d early%n", target.replaceAll(".*\"type\": \"(\\w+)\".*", "$1"),
                ROUNDS, acknowledged.size(), deliveries.size(), missing.size(), duplicated, early.size());
        assertThat(acknowledged).as("the load actually ran").hasSizeGreaterThan(50);
        assertThat(missing).as("acknowledged jobs that never reached the broker").isEmpty();
        assertThat(early).as("messages before dueAt").isEmpty();
    }

    private int startChild(Path data, String connection) throws Exception {
        ChildServer server = ChildServer.start(data, "--connection", connection);
        child = server.process();
        return server.port();
    }

    private void loadThenKill(int port, String target, long loadMillis) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        for (int c = 0; c < CLIENTS; c++) {
            Random random = new Random(port * 31L + c);
            clients.submit(() -> scheduleUntilStopped(port, target, random, stop));
        }
        Thread.sleep(loadMillis); // the kill lands at a random moment of the load
        child.destroyForcibly(); // SIGKILL: no shutdown hook runs
        child.waitFor(10, TimeUnit.SECONDS);
        stop.set(true);
        clients.shutdown();
        assertThat(clients.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    }

    private void scheduleUntilStopped(int port, String target, Random random, AtomicBoolean stop) {
        while (!stop.get()) {
            long runAt = System.currentTimeMillis() + random.nextInt(2_000);
            String body = "{\"runAt\": " + runAt + ", \"target\": " + target + ", \"payload\": {\"n\": "
                    + random.nextInt() + "}}";
            try {
                HttpResponse<String> response = http.send(ServerFixture.authorized(
                        URI.create("http://127.0.0.1:" + port + "/v1/jobs")).timeout(Duration.ofSeconds(5))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 201) {
                    JsonNode job = JSON.readTree(response.body());
                    acknowledged.put(job.get("id").asText(), Instant.parse(job.get("dueAt").asText()).toEpochMilli());
                } else {
                    throw new AssertionError(response.statusCode() + " " + response.body());
                }
            } catch (IOException e) {
                return; // the server died: no answer, no promise
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
