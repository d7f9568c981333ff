package dev.hourglass.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.queues.KafkaBroker;
import dev.hourglass.queues.KafkaTarget;
import dev.hourglass.queues.NatsTarget;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.queues.QueueDeliveries;
import dev.hourglass.queues.QueueTarget;
import dev.hourglass.queues.RabbitMqTarget;
import dev.hourglass.queues.RedisTarget;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * S2 for every target type in one sitting: {@code count} jobs due at one instant, delivered to a webhook receiver
 * (as {@code webhook-drain}), then to RabbitMQ, NATS JetStream and Redis Streams on this machine, and to a Kafka
 * broker the scenario starts in a child JVM (KRaft, one node). Each drain has a fresh SQLite store and the same
 * number of deliveries in flight; after each, the messages the broker holds are counted (a figure, {@code at_broker}:
 * those of the measured drain). Each type is drained once unmeasured first, a tenth of the jobs, so that every figure
 * is of compiled code, whichever type runs first.
 *
 * <p>Durable set-ups, as in production: a durable RabbitMQ queue (persistent messages, publisher confirms), a
 * file-backed JetStream stream, a Kafka topic of 4 partitions ({@code acks=all}, one replica). Redis keeps what its
 * server is configured to keep (this machine's: nothing on disk). Everything the scenario creates is deleted after.
 */
final class QueueDrain {
    static final String RABBITMQ = "amqp://guest:guest@127.0.0.1:5672";
    static final String NATS = "nats://127.0.0.1:4222";
    static final String REDIS = "redis://127.0.0.1:6379/0";

    private QueueDrain() {}

    /** @param warm whether each type is drained once unmeasured first (not in smoke runs, which only prove it runs) */
    static void run(Report report, Path workDir, int count, int concurrency, Set<String> types, boolean warm)
            throws Exception {
        String id = UUID.randomUUID().toString().replace("-", "");
        Map<String, Object> labels = Map.of("in_flight", concurrency);
        if (types.contains("webhook")) {
            if (warm) {
                try (DrainStore store = DrainStore.sqlite(workDir, "queue-drain-webhook-warm-up")) {
                    WebhookDrain.drain(workDir, store, warmUp(count), DrainRate.lead(warmUp(count)), concurrency,
                            true);
                }
            }
            try (DrainStore store = DrainStore.sqlite(workDir, "queue-drain-webhook")) {
                WebhookDrain.Drained d = WebhookDrain.drain(workDir, store, count, DrainRate.lead(count), concurrency,
                        true);
                Map<String, Object> figures = d.drain().figures(labels);
                figures.put("receiver", d.receiver());
                figures.put("cpu_us_per_job", d.drain().cpuMicrosPerJob());
                report.result("queue-drain-webhook", figures);
            }
        }
        KafkaBroker kafka = null;
        List<QueueConnection> connections = new java.util.ArrayList<>(List.of(
                QueueConnection.parse("mq=" + RABBITMQ), QueueConnection.parse("n=" + NATS),
                QueueConnection.parse("r=" + REDIS)));
        try {
            if (types.contains("kafka")) {
                Report.progress("starting a Kafka broker (KRaft, child JVM)");
                kafka = KafkaBroker.start(BenchEngines.scratch(workDir, "kafka"));
                connections.add(QueueConnection.parse("k=kafka://" + kafka.bootstrap()));
            }
            try (QueueDeliveries queues = QueueDeliveries.of(connections, Duration.ofSeconds(30))) {
                Map<String, JobHandler> handlers = queues.handlers();
                if (types.contains("kafka")) {
                    String topic = "hg-bench-" + id;
                    kafka.createTopic(topic, 4);
                    KafkaBroker broker = kafka;
                    drain(report, workDir, "kafka", count, concurrency, handlers, new KafkaTarget("k", topic),
                            () -> kafkaRecords(broker, topic), labels, warm);
                }
                if (types.contains("rabbitmq")) {
                    drainRabbit(report, workDir, "hg-bench-" + id, count, concurrency, handlers, labels, warm);
                }
                if (types.contains("nats")) {
                    drainNats(report, workDir, id, count, concurrency, handlers, labels, warm);
                }
                if (types.contains("redis")) {
                    drainRedis(report, workDir, "hg-bench:" + id, count, concurrency, handlers, labels, warm);
                }
            }
        } finally {
            if (kafka != null) {
                kafka.close();
                BenchEngines.delete(kafka.dir());
            }
        }
    }

    /** The unmeasured drain before each measured one: a tenth of the jobs, at least one. */
    private static int warmUp(int count) {
        return Math.max(1, count / 10);
    }

    private static void drain(Report report, Path workDir, String type, int count, int concurrency,
            Map<String, JobHandler> handlers, QueueTarget target, LongSupplier atBroker, Map<String, Object> labels,
            boolean warm) throws Exception {
        if (warm) {
            try (DrainStore store = DrainStore.sqlite(workDir, "queue-drain-" + type + "-warm-up")) {
                DrainRate.drain(store, "queue-drain-" + type + "-warm-up", warmUp(count),
                        DrainRate.lead(warmUp(count)), type, handlers.get(type), target.toJson(), concurrency, true);
            }
        }
        long before = atBroker.getAsLong();
        try (DrainStore store = DrainStore.sqlite(workDir, "queue-drain-" + type)) {
            DrainRate.Drain d = DrainRate.drain(store, "queue-drain-" + type, count, DrainRate.lead(count), type,
                    handlers.get(type), target.toJson(), concurrency, true);
            Map<String, Object> figures = d.figures(labels);
            figures.put("at_broker", atBroker.getAsLong() - before);
            figures.put("cpu_us_per_job", d.cpuMicrosPerJob());
            report.result("queue-drain-" + type, figures);
        }
    }

    private static void drainRabbit(Report report, Path workDir, String queue, int count, int concurrency,
            Map<String, JobHandler> handlers, Map<String, Object> labels, boolean warm)
            throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(RABBITMQ);
        try (com.rabbitmq.client.Connection connection = factory.newConnection("hourglass-bench");
                Channel channel = connection.createChannel()) {
            channel.queueDeclare(queue, true, false, false, null); // durable: persistent messages reach the disk
            try {
                drain(report, workDir, "rabbitmq", count, concurrency, handlers, new RabbitMqTarget("mq", "", queue),
                        () -> messageCount(channel, queue), labels, warm);
            } finally {
                channel.queueDelete(queue);
            }
        }
    }

    private static long messageCount(Channel channel, String queue) {
        try {
            return channel.queueDeclarePassive(queue).getMessageCount();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static void drainNats(Report report, Path workDir, String id, int count, int concurrency,
            Map<String, JobHandler> handlers, Map<String, Object> labels, boolean warm)
            throws Exception {
        String stream = "HG_BENCH_" + id;
        try (io.nats.client.Connection nats = Nats.connect(NATS)) {
            JetStreamManagement jsm = nats.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(stream).subjects("hgbench." + id + ".>")
                    .storageType(StorageType.File).build());
            try {
                drain(report, workDir, "nats", count, concurrency, handlers, new NatsTarget("n", "hgbench." + id + ".due"),
                        () -> {
                            try {
                                return jsm.getStreamInfo(stream).getStreamState().getMsgCount();
                            } catch (Exception e) {
                                return -1;
                            }
                        }, labels, warm);
            } finally {
                jsm.deleteStream(stream);
            }
        }
    }

    private static void drainRedis(Report report, Path workDir, String key, int count, int concurrency,
            Map<String, JobHandler> handlers, Map<String, Object> labels, boolean warm)
            throws Exception {
        RedisClient client = RedisClient.create(REDIS);
        try (StatefulRedisConnection<String, String> redis = client.connect()) {
            try {
                drain(report, workDir, "redis", count, concurrency, handlers, new RedisTarget("r", key),
                        () -> redis.sync().xlen(key), labels, warm);
            } finally {
                redis.sync().del(key);
            }
        } finally {
            client.shutdown();
        }
    }

    private static long kafkaRecords(KafkaBroker broker, String topic) {
        try (Admin admin = Admin.create(broker.adminConfig())) {
            Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
            for (int p = 0; p < 4; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).values().stream()
                    .mapToLong(o -> o.offset()).sum();
        } catch (Exception e) {
            return -1;
        }
    }
}
