package dev.hourglass.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery to a real Kafka broker (KRaft, in a child JVM: {@link KafkaBroker}), read back by a real consumer. */
class KafkaDeliveryTest {
    static KafkaBroker broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker(@TempDir Path brokerDir) throws Exception {
        broker = KafkaBroker.start(brokerDir);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    private QueueEngine engine() {
        return new QueueEngine(dir, List.of(QueueConnection.parse("k=kafka://" + broker.bootstrap())));
    }

    private static String newTopic() {
        String topic = "hg-" + UUID.randomUUID();
        broker.createTopic(topic, 2);
        return topic;
    }

    /** Every record of {@code topic}, read from the start until {@code count} arrived. */
    private static List<ConsumerRecord<String, String>> read(String topic, int count) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static String header(ConsumerRecord<String, String> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Test
    void deliversEveryJobAtItsDueTimeWithKeyAndHeaders() {
        String topic = newTopic();
        try (QueueEngine engine = engine()) {
            Instant start = Instant.now();
            Map<String, Job> jobs = new HashMap<>();
            for (int i = 0; i < 20; i++) {
                KafkaTarget target = new KafkaTarget("k", topic, i % 2 == 0 ? null : "customer-" + i,
                        Map.of("Team", "billing"));
                Job job = engine.schedule(target, "{\"n\":" + i + "}", When.at(start.plusMillis(300 + 50L * i)), 3);
                jobs.put(job.id().toString(), job);
            }
            jobs.values().forEach(j -> assertThat(engine.awaitFinished(j.id(), Duration.ofSeconds(30)).state())
                    .isEqualTo(JobState.SUCCEEDED));
            List<ConsumerRecord<String, String>> records = read(topic, 20);
            assertThat(records).hasSize(20);
            for (ConsumerRecord<String, String> r : records) {
                Job job = jobs.get(header(r, QueueMessage.JOB_ID));
                assertThat(job).isNotNull();
                assertThat(r.timestamp()).as("sent at or after the due time (the producer's clock, ms)")
                        .isGreaterThanOrEqualTo(job.dueAt().toEpochMilli());
                assertThat(r.value()).isEqualTo(new String(job.payload(), StandardCharsets.UTF_8));
                String n = r.value().replaceAll("\\D", "");
                assertThat(r.key()).isEqualTo(Integer.parseInt(n) % 2 == 0 ? job.id().toString() : "customer-" + n);
                assertThat(header(r, QueueMessage.ATTEMPT)).isEqualTo("1");
                assertThat(header(r, QueueMessage.IDEMPOTENCY_KEY)).isEqualTo(job.id() + ":1");
                assertThat(header(r, "Team")).isEqualTo("billing");
            }
        }
    }

    @Test
    void aTopicThatDoesNotExistIsRetriedWithAClearErrorUntilItDoes() {
        String topic = "hg-later-" + UUID.randomUUID();
        try (QueueEngine engine = engine()) {
            Job job = engine.schedule(new KafkaTarget("k", topic), "{}", When.now(), 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> engine.job(job.id()).attempts() >= 2);
            assertThat(engine.job(job.id()).lastError()).contains("topic '" + topic + "' does not exist");
            broker.createTopic(topic, 1);
            assertThat(engine.awaitFinished(job.id(), Duration.ofSeconds(30)).state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(read(topic, 1)).hasSize(1);
        }
    }

    @Test
    void aTopicTheProducerMayNotWriteToFailsTheJobAtOnce() throws Exception {
        String topic = newTopic();
        try (Admin admin = Admin.create(broker.adminConfig())) {
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL),
                    new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.WRITE, AclPermissionType.DENY))))
                    .all().get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> admin.describeAcls(AclBindingFilter.ANY).values().get()
                    .stream().anyMatch(b -> b.pattern().name().equals(topic)));
        }
        try (QueueEngine engine = engine()) {
            Job job = engine.schedule(new KafkaTarget("k", topic), "{}", When.now(), 5);
            Job done = engine.awaitFinished(job.id(), Duration.ofSeconds(20));
            assertThat(done.state()).isEqualTo(JobState.FAILED);
            assertThat(done.attempts()).isEqualTo(1);
            assertThat(done.lastError()).contains("TopicAuthorizationException");
        }
    }

    @Test
    void aBrokerThatStopsOrIsKilledIsRetriedUntilItIsBackAndNothingIsLost() {
        String topic = newTopic();
        try (QueueEngine engine = engine()) {
            Job first = engine.schedule(new KafkaTarget("k", topic), "{\"n\":0}", When.now(), 100);
            assertThat(engine.awaitFinished(first.id(), Duration.ofSeconds(20)).state()).isEqualTo(JobState.SUCCEEDED);

            broker.kill(); // like kill -9: no controlled shutdown
            List<Job> during = engine.scheduleDuringOutage(new KafkaTarget("k", topic), 5, "Kafka");

            broker.restart();
            engine.awaitAllSucceeded(during, Duration.ofSeconds(60));
            assertThat(read(topic, 6).stream().map(ConsumerRecord::value).distinct()).hasSize(6);
        }
    }
}
