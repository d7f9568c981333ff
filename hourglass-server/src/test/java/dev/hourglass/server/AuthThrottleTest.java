package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.time.ManualClock;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Guessing keys: a client address that fails authentication more than 20 times a minute gets 429, unchecked. */
class AuthThrottleTest {
    private static final String WRONG_KEY = ServerFixture.API_KEY.substring(0, ServerFixture.API_KEY.length() - 4)
            + "zzzz";

    @TempDir
    Path dir;

    @Test
    void theTwentyFirstFailureInAMinuteIsRefusedWithoutCheckingTheKeyUntilTheAllowanceReturns() {
        ManualClock clock = new ManualClock(Instant.parse("2030-01-01T00:00:00Z"));
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir), clock)) {
            for (int i = 0; i < 20; i++) {
                assertThat(api.get("/v1/jobs", ServerFixture.bearer(WRONG_KEY)).status()).isEqualTo(401);
            }

            Response refused = api.get("/v1/jobs", ServerFixture.bearer(WRONG_KEY));
            BadInputTest.assertProblem(refused, 429, "failed authentication too often");
            assertThat(refused.header("Retry-After")).isEqualTo("3");
            Response evenAValidKey = api.get("/v1/jobs");
            assertThat(evenAValidKey.status()).as("the key is not checked").isEqualTo(429);
            assertThat(api.get("/v1/admin/tenants", ServerFixture.bearer(ServerFixture.ADMIN_KEY)).status())
                    .as("the admin API too").isEqualTo(429);
            assertThat(api.get("/healthz").status()).as("no key needed").isEqualTo(200);

            clock.advance(Duration.ofSeconds(3));
            assertThat(api.get("/v1/jobs").status()).as("a valid key is not counted").isEqualTo(200);
            assertThat(api.get("/v1/jobs").status()).isEqualTo(200);
            assertThat(api.get("/v1/jobs", ServerFixture.bearer(WRONG_KEY)).status()).isEqualTo(401);
            assertThat(api.get("/v1/jobs").status()).isEqualTo(429);
        }
    }
}
