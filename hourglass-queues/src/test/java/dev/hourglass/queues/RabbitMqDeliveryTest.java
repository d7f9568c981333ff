package dev.hourglass.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.store.postgres.TcpProxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery to the machine's real RabbitMQ (127.0.0.1:5672, guest), read back by a real consumer. */
class RabbitMqDeliveryTest {
    static final String BROKER = "amqp://guest:guest@127.0.0.1:5672";

    record Received(Instant at, AMQP.BasicProperties properties, String body) {}

    @TempDir
    Path dir;
    Connection consumerConnection;
    Channel consumer;
    String exchange;
    String queue;
    final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void declare() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(BROKER);
        consumerConnection = factory.newConnection("hourglass-test");
        consumer = consumerConnection.createChannel();
        exchange = "hg-test-" + UUID.randomUUID();
        consumer.exchangeDeclare(exchange, "direct", false, true, null);
        queue = consumer.queueDeclare("", false, true, true, null).getQueue();
        consumer.queueBind(queue, exchange, "due");
        consumer.basicConsume(queue, true, new DefaultConsumer(consumer) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                received.add(new Received(Instant.now(), properties, new String(body, StandardCharsets.UTF_8)));
            }
        });
    }

    @AfterEach
    void close() throws Exception {
        consumerConnection.close();
    }

    @Test
    void deliversEveryJobAtItsDueTimeWithItsBodyAndHeaders() {
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("mq=" + BROKER)))) {
            RabbitMqTarget target = new RabbitMqTarget("mq", exchange, "due", Map.of("Team", "billing"));
            Instant start = Instant.now();
            Map<String, Job> jobs = new HashMap<>();
            for (int i = 0; i < 20; i++) {
                Job job = engine.schedule(target, "{\"n\":" + i + "}", When.at(start.plusMillis(300 + 50L * i)), 3);
                jobs.put(job.id().toString(), job);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> received.size() >= 20);
            for (Received r : received) {
                Map<String, Object> headers = r.properties().getHeaders();
                Job job = jobs.get(String.valueOf(headers.get(QueueMessage.JOB_ID)));
                assertThat(job).as("a message for a scheduled job").isNotNull();
                assertThat(r.at()).as("never early").isAfterOrEqualTo(job.dueAt());
                assertThat(r.body()).isEqualTo(new String(job.payload(), StandardCharsets.UTF_8));
                assertThat(String.valueOf(headers.get(QueueMessage.ATTEMPT))).isEqualTo("1");
                assertThat(String.valueOf(headers.get(QueueMessage.DUE_AT))).isNotBlank();
                assertThat(String.valueOf(headers.get(QueueMessage.IDEMPOTENCY_KEY))).isEqualTo(job.id() + ":1");
                assertThat(String.valueOf(headers.get("Team"))).isEqualTo("billing");
                assertThat(r.properties().getDeliveryMode()).as("persistent").isEqualTo(2);
                assertThat(r.properties().getMessageId()).startsWith(job.id() + ":");
            }
            assertThat(received).hasSize(20);
            jobs.values().forEach(j -> assertThat(engine.awaitFinished(j.id(), Duration.ofSeconds(5)).state())
                    .isEqualTo(JobState.SUCCEEDED));
        }
    }

    @Test
    void anUnroutableMessageFailsTheJobAtOnce() {
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("mq=" + BROKER)))) {
            Job job = engine.schedule(new RabbitMqTarget("mq", exchange, "nobody-listens"), "{}", When.now(), 5);
            Job done = engine.awaitFinished(job.id(), Duration.ofSeconds(10));
            assertThat(done.state()).isEqualTo(JobState.FAILED);
            assertThat(done.attempts()).isEqualTo(1);
            assertThat(done.lastError()).contains("unroutable").contains("nobody-listens");
        }
    }

    @Test
    void anUnknownExchangeFailsTheJobAtOnceAndLaterJobsStillGo() {
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("mq=" + BROKER)))) {
            Job bad = engine.schedule(new RabbitMqTarget("mq", "hg-no-such-exchange", "due"), "{}", When.now(), 5);
            Job done = engine.awaitFinished(bad.id(), Duration.ofSeconds(10));
            assertThat(done.state()).isEqualTo(JobState.FAILED);
            assertThat(done.attempts()).isEqualTo(1);
            assertThat(done.lastError()).contains("404").contains("hg-no-such-exchange");

            Job good = engine.schedule(new RabbitMqTarget("mq", exchange, "due"), "{\"ok\":true}", When.now(), 5);
            assertThat(engine.awaitFinished(good.id(), Duration.ofSeconds(10)).state()).isEqualTo(JobState.SUCCEEDED);
            await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 1);
        }
    }

    @Test
    void aBrokerThatCannotBeReachedIsRetriedUntilItIsBackAndNothingIsLost() {
        try (TcpProxy proxy = TcpProxy.start("127.0.0.1", 5672);
                QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse(
                        "mq=amqp://guest:guest@127.0.0.1:" + proxy.port())))) {
            RabbitMqTarget target = new RabbitMqTarget("mq", exchange, "due");
            Job first = engine.schedule(target, "{\"n\":0}", When.now(), 50);
            assertThat(engine.awaitFinished(first.id(), Duration.ofSeconds(10)).state()).isEqualTo(JobState.SUCCEEDED);

            proxy.cut(TcpProxy.Fault.REFUSE); // the open connection drops, new ones are refused
            List<Job> during = engine.scheduleDuringOutage(target, 5, "RabbitMQ");

            proxy.restore();
            engine.awaitAllSucceeded(during, Duration.ofSeconds(15));
            await().atMost(Duration.ofSeconds(5)).until(() -> received.stream().map(Received::body).distinct()
                    .count() == 6);
        }
    }
}
