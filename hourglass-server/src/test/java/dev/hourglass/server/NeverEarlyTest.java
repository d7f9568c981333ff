package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.Receiver.Delivery;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Promise 2 on the real clock, through the whole service: jobs due over the next five seconds (by runAt with
 * millisecond precision, as RFC 3339 and as epoch millis, and by delaySeconds) each arrive at the receiver at or
 * after their due time. Prints the lateness.
 */
class NeverEarlyTest {
    private static final int JOBS = 50;

    @TempDir
    Path dir;

    @Test
    void everyDeliveryArrivesAtOrAfterItsDueTime() {
        Random random = new Random(7);
        Map<String, Long> dueById = new HashMap<>();
        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(dir)) {
            String target = "\"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url("/t") + "\"}";
            for (int i = 0; i < JOBS; i++) {
                String when = switch (i % 3) {
                    case 0 -> "\"runAt\": \"" + Instant.ofEpochMilli(System.currentTimeMillis() + random.nextInt(5_000))
                            + "\"";
                    case 1 -> "\"runAt\": " + (System.currentTimeMillis() + random.nextInt(5_000));
                    default -> "\"delaySeconds\": " + random.nextInt(6);
                };
                JsonNode job = api.schedule("{" + when + ", " + target + ", \"payload\": {\"n\": " + i + "}}");
                dueById.put(job.get("id").asText(), Instant.parse(job.get("dueAt").asText()).toEpochMilli());
            }

            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.deliveries("/t").size() >= JOBS);

            List<Long> lateness = new ArrayList<>();
            List<String> early = new ArrayList<>();
            for (Delivery d : receiver.deliveries("/t")) {
                String id = d.header("Hourglass-Job-Id");
                long due = dueById.get(id);
                assertThat(Instant.parse(d.header("Hourglass-Due-At")).toEpochMilli()).isEqualTo(due);
                if (d.arrivedMillis() < due) {
                    early.add(id + " arrived " + d.arrivedMillis() + " due " + due);
                }
                lateness.add(d.arrivedMillis() - due);
            }
            Collections.sort(lateness);
            System.out.printf("never-early: %d deliveries, lateness p50 %d ms, p90 %d ms, max %d ms%n",
                    lateness.size(), lateness.get(lateness.size() / 2), lateness.get(lateness.size() * 9 / 10),
                    lateness.getLast());
            assertThat(early).as("deliveries before their due time").isEmpty();
            assertThat(receiver.deliveries("/t")).hasSize(JOBS);
        }
    }
}
