package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.time.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server takes its clocks from its caller, like the engine: due times, timestamps and the tenants' schedule
 * rates follow a manual clock exactly, whatever the real time.
 */
class InjectedClockTest {
    private static final Instant T0 = Instant.parse("2031-03-04T05:06:07.123Z");

    @TempDir
    Path dir;

    @Test
    void dueTimesAndTimestampsAreTheInjectedClocksAndRatesRefillOnItsTicker() {
        ManualClock clock = new ManualClock(T0);
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir), clock)) {
            ServerFixture.Response created = api.post("/v1/jobs", """
                    {"delaySeconds": 60, "target": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}}""");
            assertThat(created.status()).isEqualTo(201);
            assertThat(created.json().get("createdAt").asText()).isEqualTo("2031-03-04T05:06:07.123Z");
            assertThat(created.json().get("dueAt").asText()).isEqualTo("2031-03-04T05:07:07.123Z");

            ServerFixture.Response tenant = api.post("/v1/admin/tenants", """
                    {"name": "slow", "quotas": {"schedulesPerSecond": 1, "scheduleBurst": 1}}""",
                    ServerFixture.bearer(ServerFixture.ADMIN_KEY));
            assertThat(tenant.status()).isEqualTo(201);
            String key = tenant.json().get("apiKey").asText();
            assertThat(tenant.json().get("createdAt").asText()).isEqualTo("2031-03-04T05:06:07.123Z");

            String job = """
                    {"delaySeconds": 60, "target": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}}""";
            assertThat(api.post("/v1/jobs", job, ServerFixture.bearer(key)).status()).isEqualTo(201);
            assertThat(api.post("/v1/jobs", job, ServerFixture.bearer(key)).status())
                    .as("the one token is spent; real time passing does not refill it").isEqualTo(429);
            clock.advance(Duration.ofSeconds(1));
            assertThat(api.post("/v1/jobs", job, ServerFixture.bearer(key)).status()).isEqualTo(201);
        }
    }
}
