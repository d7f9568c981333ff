package dev.hourglass.queues;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.store.postgres.TcpProxy;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery to the machine's real Redis (127.0.0.1:6379), read back with XRANGE. */
class RedisDeliveryTest {
    static final String SERVER = "redis://127.0.0.1:6379/0";

    @TempDir
    Path dir;
    RedisClient client;
    StatefulRedisConnection<String, String> connection;
    RedisCommands<String, String> redis;
    String stream;

    @BeforeEach
    void connect() {
        client = RedisClient.create(SERVER);
        connection = client.connect();
        redis = connection.sync();
        stream = "hgtest:" + UUID.randomUUID();
    }

    @AfterEach
    void close() {
        redis.del(stream);
        connection.close();
        client.shutdown();
    }

    private List<StreamMessage<String, String>> entries() {
        return redis.xrange(stream, Range.create("-", "+"));
    }

    @Test
    void appendsEveryJobAtItsDueTimeWithItsBodyAndFields() {
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("r=" + SERVER)))) {
            RedisTarget target = new RedisTarget("r", stream);
            Instant start = Instant.now();
            Map<String, Job> jobs = new HashMap<>();
            for (int i = 0; i < 20; i++) {
                Job job = engine.schedule(target, "{\"n\":" + i + "}", When.at(start.plusMillis(300 + 50L * i)), 3);
                jobs.put(job.id().toString(), job);
            }
            jobs.values().forEach(j -> assertThat(engine.awaitFinished(j.id(), Duration.ofSeconds(20)).state())
                    .isEqualTo(JobState.SUCCEEDED));
            List<StreamMessage<String, String>> entries = entries();
            assertThat(entries).hasSize(20);
            for (StreamMessage<String, String> entry : entries) {
                Job job = jobs.get(entry.getBody().get("hourglass-job-id"));
                assertThat(job).isNotNull();
                long addedAt = Long.parseLong(entry.getId().substring(0, entry.getId().indexOf('-')));
                assertThat(addedAt).as("appended at or after the due time (the entry id is Redis's clock, ms)")
                        .isGreaterThanOrEqualTo(job.dueAt().toEpochMilli());
                assertThat(entry.getBody()).containsEntry("payload", new String(job.payload()))
                        .containsEntry("hourglass-attempt", "1")
                        .containsEntry("idempotency-key", job.id() + ":1")
                        .containsKey("hourglass-due-at");
            }
        }
    }

    @Test
    void aKeyThatIsNotAStreamFailsTheJobAtOnce() {
        redis.set(stream, "not a stream");
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("r=" + SERVER)))) {
            Job job = engine.schedule(new RedisTarget("r", stream), "{}", When.now(), 5);
            Job done = engine.awaitFinished(job.id(), Duration.ofSeconds(10));
            assertThat(done.state()).isEqualTo(JobState.FAILED);
            assertThat(done.attempts()).isEqualTo(1);
            assertThat(done.lastError()).contains("WRONGTYPE");
        }
    }

    @Test
    void aServerThatCannotBeReachedIsRetriedUntilItIsBackAndNothingIsLost() {
        try (TcpProxy proxy = TcpProxy.start("127.0.0.1", 6379);
                QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse(
                        "r=redis://127.0.0.1:" + proxy.port() + "/0")))) {
            RedisTarget target = new RedisTarget("r", stream);
            Job first = engine.schedule(target, "{\"n\":0}", When.now(), 50);
            assertThat(engine.awaitFinished(first.id(), Duration.ofSeconds(10)).state()).isEqualTo(JobState.SUCCEEDED);

            proxy.cut(TcpProxy.Fault.REFUSE);
            List<Job> during = engine.scheduleDuringOutage(target, 5, "Redis");

            proxy.restore();
            engine.awaitAllSucceeded(during, Duration.ofSeconds(20));
            assertThat(entries().stream().map(e -> e.getBody().get("payload")).distinct()).hasSize(6);
        }
    }
}
