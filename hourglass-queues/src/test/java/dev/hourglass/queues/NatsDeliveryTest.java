package dev.hourglass.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.store.postgres.TcpProxy;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
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

/** Delivery to the machine's real NATS server with JetStream (127.0.0.1:4222), read back from the stream. */
class NatsDeliveryTest {
    static final String SERVER = "nats://127.0.0.1:4222";

    record Received(Instant at, Message message) {}

    @TempDir
    Path dir;
    Connection nats;
    JetStreamManagement jsm;
    String stream;
    String prefix;
    io.nats.client.Dispatcher listener;
    final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void createStream() throws Exception {
        nats = Nats.connect(SERVER);
        jsm = nats.jetStreamManagement();
        String id = UUID.randomUUID().toString().replace("-", "");
        stream = "HGTEST_" + id;
        prefix = "hgtest." + id;
        addStream();
        // A plain subscriber sees each published message as it arrives, for its arrival time.
        listener = nats.createDispatcher(m -> received.add(new Received(Instant.now(), m)));
        listener.subscribe(prefix + ".>");
    }

    private void addStream() throws Exception {
        jsm.addStream(StreamConfiguration.builder().name(stream).subjects(prefix + ".>")
                .storageType(StorageType.Memory).duplicateWindow(Duration.ofMinutes(2)).build());
    }

    @AfterEach
    void deleteStream() throws Exception {
        try {
            jsm.deleteStream(stream);
        } catch (Exception ignored) {
            // not created
        }
        nats.close();
    }

    private long storedMessages() throws Exception {
        return jsm.getStreamInfo(stream).getStreamState().getMsgCount();
    }

    @Test
    void deliversEveryJobAtItsDueTimeIntoTheStreamWithItsBodyAndHeaders() throws Exception {
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("n=" + SERVER)))) {
            NatsTarget target = new NatsTarget("n", prefix + ".due", Map.of("Team", "billing"));
            Instant start = Instant.now();
            Map<String, Job> jobs = new HashMap<>();
            for (int i = 0; i < 20; i++) {
                Job job = engine.schedule(target, "{\"n\":" + i + "}", When.at(start.plusMillis(300 + 50L * i)), 3);
                jobs.put(job.id().toString(), job);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> received.size() >= 20);
            for (Received r : received) {
                Job job = jobs.get(r.message().getHeaders().getFirst(QueueMessage.JOB_ID));
                assertThat(job).isNotNull();
                assertThat(r.at()).as("never early").isAfterOrEqualTo(job.dueAt());
                assertThat(new String(r.message().getData(), StandardCharsets.UTF_8))
                        .isEqualTo(new String(job.payload(), StandardCharsets.UTF_8));
                assertThat(r.message().getHeaders().getFirst(QueueMessage.ATTEMPT)).isEqualTo("1");
                assertThat(r.message().getHeaders().getFirst("Team")).isEqualTo("billing");
                assertThat(r.message().getHeaders().getFirst("Nats-Msg-Id")).startsWith(job.id() + ":");
            }
            assertThat(storedMessages()).isEqualTo(20);
            MessageInfo first = jsm.getMessage(stream, 1);
            assertThat(first.getHeaders().getFirst(QueueMessage.JOB_ID)).isIn(jobs.keySet());
        }
    }

    @Test
    void aRepeatedDeliveryOfAJobIsDroppedByTheStreamsDuplicateWindow() throws Exception {
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("n=" + SERVER)));
                Publisher publisher = new NatsPublisher(QueueConnection.parse("n=" + SERVER))) {
            NatsTarget target = new NatsTarget("n", prefix + ".due");
            Job job = engine.schedule(target, "{\"once\":true}", When.now(), 3);
            assertThat(engine.awaitFinished(job.id(), Duration.ofSeconds(10)).state()).isEqualTo(JobState.SUCCEEDED);
            // The same job delivered again, as after a crash between the publish and the ack: attempt 2.
            Job again = engine.job(job.id());
            QueueMessage repeat = QueueMessage.of(new dev.hourglass.core.api.JobContext(
                    new Job(again.id(), again.tenant(), again.handler(), again.target(), again.payload(),
                            JobState.RUNNING, again.dueAt(), again.createdAt(), again.updatedAt(), 2,
                            again.maxAttempts(), again.backoff(), again.timeout(), again.idempotencyKey(),
                            again.requestHash(), null, null, 0, null)));
            PublishResult result = publisher.publish(target, repeat, Duration.ofSeconds(5));
            assertThat(result).isInstanceOf(PublishResult.Accepted.class);
            assertThat(((PublishResult.Accepted) result).reference()).contains("duplicate");
            assertThat(storedMessages()).isEqualTo(1);
        }
    }

    @Test
    void aSubjectNoStreamCapturesIsRetriedWithAClearErrorUntilAStreamDoes() throws Exception {
        jsm.deleteStream(stream);
        nats.closeDispatcher(listener); // a plain subscriber would answer nothing and turn "no stream" into a timeout
        try (QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse("n=" + SERVER)))) {
            Job job = engine.schedule(new NatsTarget("n", prefix + ".due"), "{}", When.now(), 100);
            await().atMost(Duration.ofSeconds(10)).until(() -> engine.job(job.id()).attempts() >= 2);
            assertThat(engine.job(job.id()).lastError()).contains("no JetStream stream captures subject");
            addStream();
            assertThat(engine.awaitFinished(job.id(), Duration.ofSeconds(10)).state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(storedMessages()).isEqualTo(1);
        }
    }

    @Test
    void aServerThatCannotBeReachedIsRetriedUntilItIsBackAndNothingIsLost() throws Exception {
        try (TcpProxy proxy = TcpProxy.start("127.0.0.1", 4222);
                QueueEngine engine = new QueueEngine(dir, List.of(QueueConnection.parse(
                        "n=nats://127.0.0.1:" + proxy.port())))) {
            NatsTarget target = new NatsTarget("n", prefix + ".due");
            Job first = engine.schedule(target, "{\"n\":0}", When.now(), 50);
            assertThat(engine.awaitFinished(first.id(), Duration.ofSeconds(10)).state()).isEqualTo(JobState.SUCCEEDED);

            proxy.cut(TcpProxy.Fault.REFUSE);
            List<Job> during = engine.scheduleDuringOutage(target, 5, "NATS");

            proxy.restore();
            engine.awaitAllSucceeded(during, Duration.ofSeconds(20));
            assertThat(storedMessages()).as("each job once: the duplicate window drops repeats").isEqualTo(6);
        }
    }
}
