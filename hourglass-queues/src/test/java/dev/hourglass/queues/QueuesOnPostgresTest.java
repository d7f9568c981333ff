package dev.hourglass.queues;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The four queue types on the PostgreSQL store: what the SQLite tests show, on the cluster's store. */
class QueuesOnPostgresTest {
    @TempDir
    Path dir;

    private final String schema = TestDatabase.newSchemaName();
    private final String id = UUID.randomUUID().toString().replace("-", "");

    @AfterEach
    void dropSchema() {
        TestDatabase.dropSchema(schema);
    }

    @Test
    void jobsToEveryQueueTypeAreDeliveredOnPostgres() throws Exception {
        try (KafkaBroker kafka = KafkaBroker.start(dir.resolve("kafka"));
                io.nats.client.Connection nats = Nats.connect("nats://127.0.0.1:4222")) {
            String topic = "hg-pg-" + id;
            kafka.createTopic(topic, 1);
            JetStreamManagement jsm = nats.jetStreamManagement();
            String stream = "HGPG_" + id;
            jsm.addStream(StreamConfiguration.builder().name(stream).subjects("hgpg." + id)
                    .storageType(StorageType.Memory).build());
            ConnectionFactory factory = new ConnectionFactory();
            factory.setUri("amqp://guest:guest@127.0.0.1:5672");
            RedisClient redisClient = RedisClient.create("redis://127.0.0.1:6379/0");
            try (com.rabbitmq.client.Connection rabbit = factory.newConnection();
                    Channel channel = rabbit.createChannel();
                    StatefulRedisConnection<String, String> redis = redisClient.connect();
                    QueueEngine engine = new QueueEngine(PostgresJobStore.open(TestDatabase.options(schema)), List.of(
                            QueueConnection.parse("k=kafka://" + kafka.bootstrap()),
                            QueueConnection.parse("mq=amqp://guest:guest@127.0.0.1:5672"),
                            QueueConnection.parse("n=nats://127.0.0.1:4222"),
                            QueueConnection.parse("r=redis://127.0.0.1:6379/0")))) {
                String queue = "hg-pg-" + id;
                channel.queueDeclare(queue, false, false, true, null);
                List<QueueTarget> targets = List.of(new KafkaTarget("k", topic), new RabbitMqTarget("mq", "", queue),
                        new NatsTarget("n", "hgpg." + id), new RedisTarget("r", "hgpg:" + id));
                Instant due = Instant.now().plusMillis(500);
                List<Job> jobs = new ArrayList<>();
                for (QueueTarget target : targets) {
                    for (int i = 0; i < 5; i++) {
                        jobs.add(engine.schedule(target, "{\"n\":" + i + "}", When.at(due), 3));
                    }
                }
                for (Job job : jobs) {
                    Job done = engine.awaitFinished(job.id(), Duration.ofSeconds(30));
                    assertThat(done.state()).as(done.handler() + ": " + done.lastError()).isEqualTo(JobState.SUCCEEDED);
                }
                try (Admin admin = Admin.create(kafka.adminConfig())) {
                    TopicPartition partition = new TopicPartition(topic, 0);
                    assertThat(admin.listOffsets(java.util.Map.of(partition, OffsetSpec.latest())).all().get()
                            .get(partition).offset()).isEqualTo(5);
                }
                assertThat(channel.queueDeclarePassive(queue).getMessageCount()).isEqualTo(5);
                assertThat(jsm.getStreamInfo(stream).getStreamState().getMsgCount()).isEqualTo(5);
                assertThat(redis.sync().xlen("hgpg:" + id)).isEqualTo(5);
                redis.sync().del("hgpg:" + id);
                channel.queueDelete(queue);
            } finally {
                jsm.deleteStream(stream);
                redisClient.shutdown();
            }
        }
    }
}
