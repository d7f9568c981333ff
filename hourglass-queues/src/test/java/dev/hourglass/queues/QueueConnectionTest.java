package dev.hourglass.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueueConnectionTest {

    @Test
    void theSchemeNamesTheSystem() {
        assertThat(QueueConnection.parse("k=kafka://127.0.0.1:9092,127.0.0.1:9093").type()).isEqualTo(QueueType.KAFKA);
        assertThat(QueueConnection.parse("mq=amqps://h:5671/v").type()).isEqualTo(QueueType.RABBITMQ);
        assertThat(QueueConnection.parse("n=nats://h:4222").type()).isEqualTo(QueueType.NATS);
        assertThat(QueueConnection.parse("r=rediss://h:6380/1").type()).isEqualTo(QueueType.REDIS);
    }

    @Test
    void credentialsNeverShowInItsTextAndMayComeFromTheEnvironment() {
        QueueConnection c = QueueConnection.parse("mq=amqp://app:${MQ_PASSWORD}@mq.internal:5672/prod",
                Map.of("MQ_PASSWORD", "s3cret")::get);
        assertThat(c.uri().getUserInfo()).isEqualTo("app:s3cret");
        assertThat(c.toString()).isEqualTo("mq=amqp://mq.internal:5672/prod").doesNotContain("s3cret");
        assertThat(c.redacted()).doesNotContain("app");
    }

    @Test
    void aBadConnectionIsRefusedSayingWhyWithoutItsCredentials() {
        assertThatThrownBy(() -> QueueConnection.parse("amqp://h")).hasMessageContaining("NAME=URI");
        assertThatThrownBy(() -> QueueConnection.parse("bad name=nats://h")).hasMessageContaining("connection name");
        assertThatThrownBy(() -> QueueConnection.parse("x=http://user:pw@h")).hasMessageContaining("amqp, amqps")
                .hasMessageNotContaining("pw");
        assertThatThrownBy(() -> QueueConnection.parse("x=nats:///")).hasMessageContaining("names no host");
        assertThatThrownBy(() -> QueueConnection.parse("x=amqp://u:${NOPE}@h", name -> null))
                .hasMessageContaining("NOPE is not set");
        assertThatThrownBy(() -> QueueConnection.byName(List.of(QueueConnection.parse("a=nats://h"),
                QueueConnection.parse("a=redis://h")))).hasMessageContaining("given twice");
    }
}
