package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.hourglass.queues.QueueConnection;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Queue targets through the HTTP API on the machine's real RabbitMQ, NATS (JetStream) and Redis: a job and a
 * recurring schedule per type, read back by a real consumer, and the bad-input matrix answered 400 with nothing
 * stored. (Kafka over HTTP: KafkaOverHttpTest, with its own broker.)
 */
class QueueTargetsOverHttpTest {
    @TempDir
    Path dir;

    ServerFixture api;
    String id = UUID.randomUUID().toString().replace("-", "");
    Connection rabbit;
    Channel channel;
    String queue = "hg-http-" + id;
    io.nats.client.Connection nats;
    JetStreamManagement jsm;
    String stream = "HGHTTP_" + id;
    RedisClient redisClient;
    StatefulRedisConnection<String, String> redis;
    String redisStream = "hghttp:" + id;

    @BeforeEach
    void start() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri("amqp://guest:guest@127.0.0.1:5672");
        rabbit = factory.newConnection();
        channel = rabbit.createChannel();
        channel.queueDeclare(queue, false, false, true, null);
        nats = Nats.connect("nats://127.0.0.1:4222");
        jsm = nats.jetStreamManagement();
        jsm.addStream(StreamConfiguration.builder().name(stream).subjects("hghttp." + id + ".>")
                .storageType(StorageType.Memory).build());
        redisClient = RedisClient.create("redis://127.0.0.1:6379/0");
        redis = redisClient.connect();
        api = ServerFixture.start(ServerFixture.config(dir).withConnections(List.of(
                QueueConnection.parse("mq=amqp://guest:guest@127.0.0.1:5672"),
                QueueConnection.parse("n=nats://127.0.0.1:4222"),
                QueueConnection.parse("r=redis://127.0.0.1:6379/0"))));
    }

    @AfterEach
    void stop() throws Exception {
        api.close();
        channel.queueDelete(queue);
        rabbit.close();
        jsm.deleteStream(stream);
        nats.close();
        redis.sync().del(redisStream);
        redis.close();
        redisClient.shutdown();
    }

    private String awaitSucceeded(String jobId) {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20))
                .until(() -> List.of("SUCCEEDED", "FAILED").contains(api.state(jobId)));
        JsonNode job = api.get("/v1/jobs/" + jobId).json();
        assertThat(job.get("state").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
        return jobId;
    }

    @Test
    void aJobToEachQueueTypeIsDeliveredAndListedWithItsTarget() throws Exception {
        JsonNode toRabbit = api.schedule("{\"delaySeconds\": 0, \"payload\": {\"to\": \"rabbit\"}, \"target\": "
                + "{\"type\": \"rabbitmq\", \"connection\": \"mq\", \"exchange\": \"\", \"routingKey\": \"" + queue
                + "\", \"headers\": {\"Team\": \"billing\"}}}");
        JsonNode toNats = api.schedule("{\"delaySeconds\": 0, \"payload\": {\"to\": \"nats\"}, \"target\": "
                + "{\"type\": \"nats\", \"connection\": \"n\", \"subject\": \"hghttp." + id + ".due\"}}");
        JsonNode toRedis = api.schedule("{\"delaySeconds\": 0, \"payload\": {\"to\": \"redis\"}, \"target\": "
                + "{\"type\": \"redis\", \"connection\": \"r\", \"stream\": \"" + redisStream + "\"}}");
        assertThat(toRabbit.get("target").get("type").asText()).isEqualTo("rabbitmq");
        assertThat(toRabbit.get("target").get("connection").asText()).isEqualTo("mq");
        assertThat(toRabbit.toString()).doesNotContain("guest").doesNotContain("5672");

        awaitSucceeded(toRabbit.get("id").asText());
        GetResponse message = channel.basicGet(queue, true);
        assertThat(new String(message.getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"to\":\"rabbit\"}");
        assertThat(message.getProps().getHeaders().get("Hourglass-Job-Id").toString())
                .isEqualTo(toRabbit.get("id").asText());
        assertThat(message.getProps().getHeaders().get("Team").toString()).isEqualTo("billing");

        awaitSucceeded(toNats.get("id").asText());
        var stored = jsm.getMessage(stream, 1);
        assertThat(new String(stored.getData(), StandardCharsets.UTF_8)).isEqualTo("{\"to\":\"nats\"}");
        assertThat(stored.getHeaders().getFirst("Hourglass-Job-Id")).isEqualTo(toNats.get("id").asText());

        awaitSucceeded(toRedis.get("id").asText());
        List<StreamMessage<String, String>> entries = redis.sync().xrange(redisStream, Range.create("-", "+"));
        assertThat(entries).hasSize(1);
        assertThat(entries.get(0).getBody()).containsEntry("payload", "{\"to\":\"redis\"}")
                .containsEntry("hourglass-job-id", toRedis.get("id").asText());

        JsonNode attempts = api.get("/v1/jobs/" + toRedis.get("id").asText() + "/attempts").json();
        assertThat(attempts.get("attempts").get(0).get("target").asText()).isEqualTo("redis://r/" + redisStream);
        assertThat(attempts.get("attempts").get(0).get("outcome").asText()).isEqualTo("success");
    }

    @Test
    void aRecurringScheduleDeliversItsRunsToAQueue() {
        ServerFixture.Response created = api.post("/v1/schedules", "{\"name\": \"ticks\", \"every\": \"PT1S\", \"payload\": {\"tick\": true},"
                + " \"target\": {\"type\": \"redis\", \"connection\": \"r\", \"stream\": \"" + redisStream + "\"}}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(15)).until(() ->
                redis.sync().xlen(redisStream) >= 2);
        StreamMessage<String, String> first = redis.sync().xrange(redisStream, Range.create("-", "+")).get(0);
        assertThat(first.getBody()).containsEntry("hourglass-schedule-id", created.json().get("id").asText())
                .containsKey("hourglass-scheduled-time");
    }

    @Test
    void aTenantMayUseOnlyTheConnectionsTheAdminGaveIt() {
        ServerFixture.Response created = api.post("/v1/admin/tenants", "{\"name\": \"acme\", \"connections\": [\"r\"]}",
                ServerFixture.bearer(ServerFixture.ADMIN_KEY));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().get("connections").toString()).isEqualTo("[\"r\"]");
        String key = created.json().get("apiKey").asText();

        ServerFixture.Response refused = api.post("/v1/jobs", "{\"delaySeconds\": 0, \"target\": {\"type\": "
                + "\"rabbitmq\", \"connection\": \"mq\", \"exchange\": \"\", \"routingKey\": \"q\"}}",
                ServerFixture.bearer(key));
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.json().get("errors").get(0).get("field").asText()).isEqualTo("target.connection");
        assertThat(refused.json().get("errors").get(0).get("rule").asText())
                .startsWith("\"mq\" may not be used by tenant 'acme'");
        ServerFixture.Response schedule = api.post("/v1/schedules", "{\"name\": \"n\", \"every\": \"PT1H\", "
                + "\"target\": {\"type\": \"nats\", \"connection\": \"n\", \"subject\": \"a\"}}",
                ServerFixture.bearer(key));
        assertThat(schedule.status()).as(schedule.body()).isEqualTo(400);

        ServerFixture.Response allowed = api.post("/v1/jobs", "{\"delaySeconds\": 0, \"target\": {\"type\": "
                + "\"redis\", \"connection\": \"r\", \"stream\": \"" + redisStream + "\"}}", ServerFixture.bearer(key));
        assertThat(allowed.status()).as(allowed.body()).isEqualTo(201);

        ServerFixture.Response opened = api.patch("/v1/admin/tenants/acme", "{\"connections\": null}",
                ServerFixture.bearer(ServerFixture.ADMIN_KEY));
        assertThat(opened.json().get("connections").isNull()).as(opened.body()).isTrue();
        assertThat(api.post("/v1/jobs", "{\"delaySeconds\": 0, \"target\": {\"type\": \"rabbitmq\", "
                + "\"connection\": \"mq\", \"exchange\": \"\", \"routingKey\": \"" + queue + "\"}}",
                ServerFixture.bearer(key)).status()).isEqualTo(201);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"type": "kafka", "connection": "k", "topic": "t"}                           | target.connection
            {"type": "rabbitmq", "connection": "nope", "exchange": "", "routingKey": "q"} | target.connection
            {"type": "rabbitmq", "connection": "n", "exchange": "", "routingKey": "q"}    | target.connection
            {"type": "rabbitmq", "connection": "mq", "routingKey": "q"}                  | target.exchange
            {"type": "nats", "connection": "n"}                                          | target.subject
            {"type": "nats", "connection": "n", "subject": "a.*"}                         | target.subject
            {"type": "nats", "connection": "n", "subject": "a", "headers": {"Nats-Msg-Id": "x"}} | target.headers
            {"type": "redis", "connection": "r"}                                         | target.stream
            {"type": "redis", "connection": "r", "stream": "s", "url": "http://x"}       | target.url
            {"type": "sqs", "connection": "r"}                                           | target.type
            """)
    void aBadQueueTargetIsRefusedNamingTheFieldAndNothingIsStored(String target, String field) {
        int before = api.allJobs().size();
        ServerFixture.Response r = api.post("/v1/jobs", "{\"delaySeconds\": 1, \"target\": " + target + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        List<String> fields = new ArrayList<>();
        r.json().get("errors").forEach(e -> fields.add(e.get("field").asText()));
        assertThat(fields).as(r.body()).contains(field);
        assertThat(r.body()).doesNotContain("guest");
        assertThat(api.allJobs()).hasSize(before);
    }
}
