package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server restarted on a store whose jobs came due while it was down: it answers {@code /readyz} 503
 * {@code catching-up} until it has started them, since a job due from then on would wait behind them; then 200 for
 * good, even when a new backlog forms later. Liveness and the API are served all along.
 */
class CatchUpReadinessTest {
    private static final int BACKLOG = 3;

    @TempDir
    Path dir;

    private static int count(Map<String, AtomicInteger> arrived, String path) {
        AtomicInteger n = arrived.get(path);
        return n == null ? 0 : n.get();
    }

    @Test
    void readinessWaitsUntilWhatCameDueWhileDownHasStarted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Map<String, AtomicInteger> arrived = new ConcurrentHashMap<>();
        try (Receiver receiver = new Receiver()) {
            receiver.onArrival(d -> arrived.computeIfAbsent(d.path(), p -> new AtomicInteger()).incrementAndGet());
            receiver.on("/slow", nth -> {
                try {
                    release.await(30, TimeUnit.SECONDS); // holds each delivery, so the node cannot start the next
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Receiver.Reply.status(204);
            });
            long dueAt;
            try (ServerFixture first = ServerFixture.start(ServerFixture.config(dir))) {
                dueAt = System.currentTimeMillis() + 1_500; // after the close below
                for (int i = 0; i < BACKLOG; i++) {
                    assertThat(first.post("/v1/jobs", "{\"runAt\": " + dueAt + ", \"target\": {\"type\": \"webhook\", "
                            + "\"url\": \"" + receiver.url("/slow") + "\"}}").status()).isEqualTo(201);
                }
            } // a graceful stop hands the claims back: the jobs wait in the store, unowned
            Thread.sleep(Math.max(0, dueAt + 200 - System.currentTimeMillis()));

            // One attempt at a time: the first delivery is held, the other two wait behind it.
            try (ServerFixture restarted = ServerFixture.start(ServerFixture.config(dir).withEngine(
                    ServerFixture.testEngine().toBuilder().maxInFlight(1).build()))) {
                ServerFixture.Response notReady = restarted.get("/readyz");
                assertThat(notReady.status()).isEqualTo(503);
                assertThat(notReady.json().get("type").asText()).isEqualTo("urn:hourglass:problem:catching-up");
                assertThat(notReady.header("Retry-After")).isEqualTo("1");
                assertThat(restarted.get("/healthz").status()).as("alive meanwhile").isEqualTo(200);
                await().atMost(Duration.ofSeconds(5)).until(() -> count(arrived, "/slow") == 1);
                assertThat(restarted.get("/readyz").status()).as("two still wait").isEqualTo(503);

                release.countDown();
                await().atMost(Duration.ofSeconds(10)).until(() -> restarted.get("/readyz").status() == 200);
                assertThat(count(arrived, "/slow")).isEqualTo(BACKLOG);

                // Later backlogs (an overloaded node) do not take readiness back.
                CountDownLatch hold = new CountDownLatch(1);
                receiver.on("/held", nth -> {
                    try {
                        hold.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return Receiver.Reply.status(204);
                });
                for (int i = 0; i < 2; i++) {
                    assertThat(restarted.post("/v1/jobs", "{\"delaySeconds\": 0, \"target\": {\"type\": \"webhook\", "
                            + "\"url\": \"" + receiver.url("/held") + "\"}}").status()).isEqualTo(201);
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> count(arrived, "/held") == 1);
                assertThat(restarted.get("/readyz").status()).isEqualTo(200);
                hold.countDown();
            }
        }
    }
}
