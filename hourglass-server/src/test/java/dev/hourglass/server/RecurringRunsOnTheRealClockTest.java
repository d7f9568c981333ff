package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A schedule {@code every PT1S} on a real server for 30 s, on the real clock: 30 runs (one either way, for where the
 * window's ends fall), each delivered once, none before the time the schedule named, each saying which schedule and
 * which time.
 */
class RecurringRunsOnTheRealClockTest {
    @TempDir
    Path dir;

    @Test
    void everySecondForThirtySecondsDeliversThirtyRunsNoneEarly() throws InterruptedException {
        try (ServerFixture server = ServerFixture.start(dir); Receiver receiver = new Receiver()) {
            Response created = server.post("/v1/schedules", "{\"name\": \"every-second\", \"every\": \"PT1S\", "
                    + "\"target\": {\"type\": \"webhook\", \"url\": \"" + receiver.url("/tick") + "\"}}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            JsonNode schedule = created.json();
            Instant createdAt = Instant.parse(schedule.get("createdAt").asText());
            Instant windowEnd = createdAt.plus(Duration.ofSeconds(30));

            Thread.sleep(Duration.between(Instant.now(), windowEnd.plusMillis(1_500)));
            assertThat(server.delete("/v1/schedules/" + schedule.get("id").asText()).status()).isEqualTo(200);

            List<Receiver.Delivery> runs = receiver.deliveries("/tick").stream()
                    .filter(d -> !Instant.parse(d.header("Hourglass-Scheduled-Time")).isAfter(windowEnd))
                    .toList();
            assertThat(runs).hasSizeBetween(29, 31);
            assertThat(runs).allSatisfy(d -> {
                Instant nominal = Instant.parse(d.header("Hourglass-Scheduled-Time"));
                assertThat(d.arrivedMillis()).as("never early").isGreaterThanOrEqualTo(nominal.toEpochMilli());
                assertThat(d.header("Hourglass-Schedule-Id")).isEqualTo(schedule.get("id").asText());
            });
            assertThat(runs.stream().map(d -> d.header("Hourglass-Scheduled-Time"))).doesNotHaveDuplicates();
            assertThat(runs.stream().map(d -> d.header("Hourglass-Job-Id"))).doesNotHaveDuplicates();
        }
    }
}
