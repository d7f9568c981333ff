package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.server.Receiver.Reply;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server gives the engine its tenants' delivery limits: a tenant whose webhook target hangs holds only its own
 * {@code maxInFlight} slots, and another tenant's webhooks are delivered meanwhile. (The engine's weighted-fair
 * order under a burst is shown by {@code FairDispatchOnSqliteTest}.)
 */
class TenantFairnessTest {
    @TempDir
    Path dir;

    private static String job(Receiver receiver, String path) {
        return "{\"delaySeconds\": 0, \"timeoutSeconds\": 30, \"target\": {\"type\": \"webhook\", \"url\": \""
                + receiver.url(path) + "\"}, \"payload\": {}}";
    }

    @Test
    void aHangingTargetHoldsOnlyItsTenantsSlotsAndARaisedLimitApplies() {
        try (Receiver receiver = new Receiver(); ServerFixture api = ServerFixture.start(dir)) {
            receiver.on("/hang", n -> Reply.hanging());
            String slow = api.post("/v1/admin/tenants", "{\"name\": \"slow\", \"quotas\": {\"maxInFlight\": 2}}",
                    bearer(ADMIN_KEY)).json().get("apiKey").asText();
            String fast = api.post("/v1/admin/tenants", "{\"name\": \"fast\"}", bearer(ADMIN_KEY)).json()
                    .get("apiKey").asText();
            for (int i = 0; i < 6; i++) {
                assertThat(api.post("/v1/jobs", job(receiver, "/hang"), bearer(slow)).status()).isEqualTo(201);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/hang").size() == 2);

            for (int i = 0; i < 3; i++) {
                assertThat(api.post("/v1/jobs", job(receiver, "/ok"), bearer(fast)).status()).isEqualTo(201);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/ok").size() == 3);
            assertThat(receiver.deliveries("/hang")).as("still only the slow tenant's 2 slots").hasSize(2);

            assertThat(api.patch("/v1/admin/tenants/slow", "{\"quotas\": {\"maxInFlight\": 4}}", bearer(ADMIN_KEY))
                    .status()).isEqualTo(200);
            assertThat(api.post("/v1/jobs", job(receiver, "/ok"), bearer(fast)).status()).isEqualTo(201);
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.deliveries("/hang").size() == 4);
        }
    }
}
