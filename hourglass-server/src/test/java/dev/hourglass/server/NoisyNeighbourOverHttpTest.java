package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.API_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.server.Receiver.Delivery;
import dev.hourglass.server.Receiver.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The noisy neighbour over HTTP (issue 20): one tenant's burst of webhooks to its receiver does not hold back
 * another tenant's webhooks to a receiver of its own, through the whole delivery path of a real server (timer,
 * fair dispatch, start commits, slots, the webhook client and its connections). The burst's receiver holds every
 * request it gets until the other tenant's webhooks have all arrived, so the test shows the order of events, not
 * a timing: each of beta's webhooks arrived while none of default's had been answered. The figures (how late
 * beta's webhooks arrive beside such a burst to a receiver that answers 2,000 a second) are the bench's:
 * {@code bin/hourglass bench --scenarios noisy-http}.
 */
class NoisyNeighbourOverHttpTest {
    private static final int BURST = 600;
    private static final int QUIET = 50;
    /** The default tenant's own limit of attempts in flight ({@code Quotas.DEFAULTS}). */
    private static final int DEFAULT_TENANT_SLOTS = 256;

    @TempDir
    Path dir;

    private static String job(String due, Receiver to, String path) {
        // A long timeout: the held attempts must not time out (and be retried) while the test holds them.
        return "{" + due + ", \"timeoutSeconds\": 300, \"target\": {\"type\": \"webhook\", \"url\": \""
                + to.url(path) + "\"}, \"payload\": {}}";
    }

    @Test
    void aTenantsWebhooksArriveWhileAnotherTenantsBurstIsHeldByItsReceiver() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger answered = new AtomicInteger();
        try (Receiver burstReceiver = new Receiver(); Receiver quietReceiver = new Receiver();
                ServerFixture api = ServerFixture.start(dir);
                ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                burstReceiver.on("/burst", nth -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    answered.incrementAndGet();
                    return Reply.status(204);
                });
                String beta = api.post("/v1/admin/tenants", "{\"name\": \"beta\"}", bearer(ADMIN_KEY)).json()
                        .get("apiKey").asText();

                // Default's burst: all due at one instant, scheduled by a few callers at once.
                String due = "\"runAt\": \"" + Rfc3339.format(Instant.now().plusSeconds(2)) + "\"";
                List<Future<Integer>> scheduled = new ArrayList<>();
                for (int i = 0; i < BURST; i++) {
                    scheduled.add(callers.submit(() -> api.post("/v1/jobs", job(due, burstReceiver, "/burst"),
                            bearer(API_KEY)).status()));
                }
                for (Future<Integer> status : scheduled) {
                    assertThat(status.get()).isEqualTo(201);
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> !burstReceiver.deliveries("/burst").isEmpty());

                // Beta's few webhooks, due now, to a receiver of its own on another port.
                for (int i = 0; i < QUIET; i++) {
                    assertThat(api.post("/v1/jobs", job("\"delaySeconds\": 0", quietReceiver, "/quiet"),
                            bearer(beta)).status()).isEqualTo(201);
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> quietReceiver.deliveries("/quiet").size() == QUIET);

                assertThat(answered.get()).as("beta's webhooks all arrived before any of default's was answered")
                        .isZero();
                assertThat(burstReceiver.deliveries("/burst").size())
                        .as("default's burst still held: no more in flight than its own slots")
                        .isLessThanOrEqualTo(DEFAULT_TENANT_SLOTS);
                assertThat(quietReceiver.deliveries("/quiet")).extracting(d -> d.header("Hourglass-Attempt"))
                        .as("each delivered at its first attempt").containsOnly("1");

                release.countDown();
                await().atMost(Duration.ofSeconds(60)).until(() -> answered.get() >= BURST);
                List<Delivery> burst = burstReceiver.deliveries("/burst");
                assertThat(burst.stream().map(d -> d.header("Hourglass-Job-Id")).distinct().count())
                        .as("default's burst delivered in full once its receiver answers").isEqualTo(BURST);
            } finally {
                release.countDown();
            }
        }
    }
}
