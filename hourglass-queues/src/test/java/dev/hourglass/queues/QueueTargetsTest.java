package dev.hourglass.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QueueTargetsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, QueueConnection> CONNECTIONS = QueueConnection.byName(List.of(
            QueueConnection.parse("k=kafka://127.0.0.1:9092,127.0.0.1:9093"),
            QueueConnection.parse("mq=amqp://user:secret@127.0.0.1:5672/prod"),
            QueueConnection.parse("n=nats://127.0.0.1:4222"),
            QueueConnection.parse("r=redis://127.0.0.1:6379/0")));

    static Map<String, String> problems(String targetJson, int payloadBytes) throws Exception {
        Map<String, String> problems = new LinkedHashMap<>();
        QueueTarget target = QueueTargets.read((ObjectNode) JSON.readTree(targetJson), CONNECTIONS, payloadBytes,
                (field, message) -> problems.merge(field, message, (a, b) -> a + " | " + b));
        assertThat(target == null).as("a target exactly when there is no problem").isEqualTo(!problems.isEmpty());
        return problems;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"type":"kafka","connection":"k","topic":"orders"}                                         | {"type":"kafka","connection":"k","topic":"orders"}
            {"type":"kafka","connection":"k","topic":"orders","key":"c-1","headers":{"b":"2","a":"1"}}  | {"type":"kafka","connection":"k","topic":"orders","key":"c-1","headers":{"a":"1","b":"2"}}
            {"type":"rabbitmq","connection":"mq","exchange":"","routingKey":"q1"}                      | {"type":"rabbitmq","connection":"mq","exchange":"","routingKey":"q1"}
            {"type":"nats","connection":"n","subject":"orders.due","headers":{"Team":"x"}}              | {"type":"nats","connection":"n","subject":"orders.due","headers":{"Team":"x"}}
            {"type":"redis","connection":"r","stream":"orders:due"}                                    | {"type":"redis","connection":"r","stream":"orders:due"}
            """)
    void aValidTargetIsStoredInItsCanonicalForm(String given, String stored) throws Exception {
        Map<String, String> problems = new LinkedHashMap<>();
        QueueTarget target = QueueTargets.read((ObjectNode) JSON.readTree(given), CONNECTIONS, 10, problems::put);
        assertThat(problems).isEmpty();
        assertThat(target.toJson()).isEqualTo(stored);
        assertThat(QueueTargets.fromJson(stored, target.type())).isEqualTo(target);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"type":"kafka","topic":"orders"}                                              | target.connection  | is required
            {"type":"kafka","connection":"nope","topic":"orders"}                          | target.connection  | not a connection of this server; known: [k]
            {"type":"kafka","connection":"mq","topic":"orders"}                            | target.connection  | is a rabbitmq connection, not kafka
            {"type":"kafka","connection":7,"topic":"orders"}                               | target.connection  | must be a string
            {"type":"kafka","connection":"k"}                                              | target.topic       | is required
            {"type":"kafka","connection":"k","topic":""}                                   | target.topic       | must not be empty
            {"type":"kafka","connection":"k","topic":"a topic"}                            | target.topic       | must be 1-249
            {"type":"kafka","connection":"k","topic":".."}                                 | target.topic       | must be 1-249
            {"type":"kafka","connection":"k","topic":"t","key":""}                         | target.key         | must be 1-1024
            {"type":"kafka","connection":"k","topic":"t","url":"http://x"}                 | target.url         | is not a field of a kafka target
            {"type":"kafka","connection":"k","topic":"t","headers":{"Hourglass-Job-Id":"x"}} | target.headers   | Hourglass sets it
            {"type":"kafka","connection":"k","topic":"t","headers":{"Idempotency-Key":"x"}} | target.headers    | Hourglass sets it
            {"type":"kafka","connection":"k","topic":"t","headers":{"a":1}}                | target.headers     | must be a string
            {"type":"kafka","connection":"k","topic":"t","headers":{"a":"x\\ny"}}          | target.headers     | without control characters
            {"type":"kafka","connection":"k","topic":"t","headers":["a"]}                  | target.headers     | must be an object
            {"type":"kafka","connection":"k","topic":"t","headers":{"A":"1","a":"2"}}      | target.headers     | twice
            {"type":"rabbitmq","connection":"mq","routingKey":"r"}                         | target.exchange    | is required
            {"type":"rabbitmq","connection":"mq","exchange":"e"}                           | target.routingKey  | is required
            {"type":"rabbitmq","connection":"mq","exchange":"a b","routingKey":"r"}        | target.exchange    | must be at most 255
            {"type":"rabbitmq","connection":"mq","exchange":"e","routingKey":"r","headers":{"x-delay":"5"}} | target.headers | RabbitMQ interprets x-* headers
            {"type":"nats","connection":"n"}                                               | target.subject     | is required
            {"type":"nats","connection":"n","subject":"orders.*"}                          | target.subject     | without '*'
            {"type":"nats","connection":"n","subject":"orders..due"}                       | target.subject     | dot-separated tokens
            {"type":"nats","connection":"n","subject":"orders.>"}                          | target.subject     | not a wildcard
            {"type":"nats","connection":"n","subject":"s","headers":{"Nats-Msg-Id":"x"}}   | target.headers     | NATS reserves Nats-*
            {"type":"nats","connection":"n","subject":"s","headers":{"a:b":"x"}}           | target.headers     | without ':' or spaces
            {"type":"redis","connection":"r"}                                              | target.stream      | is required
            {"type":"redis","connection":"r","stream":"s","headers":{"a":"b"}}             | target.headers     | is not a field of a redis target
            {"type":"redis","connection":"n","stream":"s"}                                 | target.connection  | is a nats connection, not redis
            """)
    void anInvalidTargetNamesTheFieldAndWhy(String given, String field, String message) throws Exception {
        assertThat(problems(given, 10)).containsKey(field);
        assertThat(problems(given, 10).get(field)).contains(message);
    }

    @Test
    void aPayloadOverTheTypesLimitIsRefusedNamingTheLimit() throws Exception {
        assertThat(problems("{\"type\":\"nats\",\"connection\":\"n\",\"subject\":\"s\"}", 1_000_001))
                .containsEntry("payload", "must be at most 1000000 bytes for a nats target, was 1000001");
        assertThat(problems("{\"type\":\"redis\",\"connection\":\"r\",\"stream\":\"s\"}", 1_000_001)).isEmpty();
    }

    @Test
    void noConnectionOfTheTypeSaysHowToConfigureOne() throws Exception {
        Map<String, String> problems = new LinkedHashMap<>();
        QueueTargets.read((ObjectNode) JSON.readTree("{\"type\":\"kafka\",\"connection\":\"k\",\"topic\":\"t\"}"),
                Map.of(), 1, problems::put);
        assertThat(problems.get("target.connection")).contains("none is configured: --connection NAME=URI");
    }

    @Test
    void aStoredTargetOfAnotherTypeIsNotReadAsThisOne() {
        assertThatThrownBy(() -> QueueTargets.fromJson("{\"type\":\"webhook\",\"url\":\"https://x\"}",
                QueueType.KAFKA)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kafka");
        assertThatThrownBy(() -> QueueTargets.fromJson("{\"type\":\"kafka\",\"connection\":\"k\"}", QueueType.KAFKA))
                .hasMessageContaining("topic");
    }

    @Test
    void theTargetsNameIsTypeConnectionAndDestination() {
        assertThat(new RabbitMqTarget("mq", "orders", "due").name()).isEqualTo("rabbitmq://mq/orders/due");
        assertThat(new KafkaTarget("k", "orders").name()).isEqualTo("kafka://k/orders");
    }
}
