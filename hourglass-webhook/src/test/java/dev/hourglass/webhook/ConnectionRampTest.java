package dev.hourglass.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook client opens connections to one receiver a few at a time ({@link ConnectionRamp}), on real sockets:
 * a burst to a receiver that has not answered yet opens {@value ConnectionRamp#OPENING} connections and waits for
 * their answers (or a stall) before it opens more, rides on the connections that answered, and holds up no other
 * receiver. Every assertion is on the order of events (a receiver logs its accepts and answers as they happen), not
 * on how long anything took.
 */
class ConnectionRampTest {
    private static final GuardedDnsResolver LOOPBACK = GuardedDnsResolver.system(WebhookAllowlist.parse("127.0.0.0/8"));
    /** A stall longer than any test: connections count as opening until answered. */
    private static final long NEVER = TimeUnit.HOURS.toNanos(1);

    private final ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        senders.shutdownNow();
    }

    private <T extends AutoCloseable> T closing(T c) {
        closing.add(c);
        return c;
    }

    private CloseableHttpClient client(long stallNanos) {
        return closing(WebhookHandler.newClient(Duration.ofSeconds(5), LOOPBACK, stallNanos));
    }

    /** {@code n} POSTs sent at once, each answering the status it got. */
    private List<Future<Integer>> post(CloseableHttpClient client, HeldReceiver to, int n) {
        List<Future<Integer>> statuses = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            statuses.add(senders.submit(() -> {
                HttpPost post = new HttpPost(to.url());
                post.setEntity(new StringEntity("{}"));
                return client.execute(post, ClassicHttpResponse::getCode);
            }));
        }
        return statuses;
    }

    private static void assertAll(List<Future<Integer>> statuses, int status) throws Exception {
        for (Future<Integer> s : statuses) {
            assertThat(s.get(30, TimeUnit.SECONDS)).isEqualTo(status);
        }
    }

    /** At every accept, the receiver had accepted at most OPENING connections more than it had answered. */
    private static void assertOpenedOnlyAsAnswered(List<String> events) {
        int accepts = 0;
        int answers = 0;
        for (String e : events) {
            switch (e) {
                case "accept" -> {
                    accepts++;
                    assertThat(accepts).as("connection %d accepted after %d answers: %s", accepts, answers, events)
                            .isLessThanOrEqualTo(ConnectionRamp.OPENING + answers);
                }
                case "answer" -> answers++;
                default -> { }
            }
        }
    }

    @Test
    void aBurstToAReceiverOpensAFewConnectionsAndTheRestWaitForTheirAnswers() throws Exception {
        HeldReceiver receiver = closing(new HeldReceiver());
        CloseableHttpClient client = client(NEVER);

        List<Future<Integer>> statuses = post(client, receiver, 40);
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.count("request") >= ConnectionRamp.OPENING);
        // Without the ramp the other 36 would be opening now too: give them the chance to show.
        await().pollDelay(Duration.ofMillis(300)).until(() -> true);
        assertThat(receiver.count("accept")).as("connections opened before any answer")
                .isEqualTo(ConnectionRamp.OPENING);

        receiver.answerAll();
        assertAll(statuses, 204);
        assertOpenedOnlyAsAnswered(receiver.events());
        assertThat(receiver.count("request")).isEqualTo(40);
        assertThat(receiver.count("accept")).as("the burst rode on connections that had answered").isLessThan(40);
    }

    @Test
    void aConnectionCountsAsOpeningUntilItsAnswersStatusNotItsBody() throws Exception {
        HeldReceiver receiver = closing(new HeldReceiver(true)); // statuses at once, bodies held
        receiver.answerAll();
        CloseableHttpClient client = client(NEVER);

        // Exchanges left open (their bodies never read), as a delivery whose body is still on its way: none of
        // their connections comes back to the pool, so only their answers' statuses can make room for more.
        List<Future<ClassicHttpResponse>> open = new ArrayList<>();
        for (int i = 0; i < 2 * ConnectionRamp.OPENING; i++) {
            open.add(senders.submit(() -> {
                HttpPost post = new HttpPost(receiver.url());
                post.setEntity(new StringEntity("{}"));
                return client.executeOpen(null, post, null);
            }));
        }
        for (Future<ClassicHttpResponse> response : open) {
            assertThat(response.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(200);
        }
        assertThat(receiver.count("accept")).isEqualTo(2 * ConnectionRamp.OPENING);
        assertOpenedOnlyAsAnswered(receiver.events());

        receiver.sendBodies(2 * ConnectionRamp.OPENING);
        for (Future<ClassicHttpResponse> response : open) {
            response.get().close();
        }
    }

    @Test
    void aReceiverThatDoesNotAnswerHoldsUpNoOtherReceiver() throws Exception {
        HeldReceiver silent = closing(new HeldReceiver());
        HeldReceiver quick = closing(new HeldReceiver());
        quick.answerAll();
        CloseableHttpClient client = client(NEVER);

        List<Future<Integer>> toSilent = post(client, silent, 20);
        await().atMost(Duration.ofSeconds(10)).until(() -> silent.count("request") >= ConnectionRamp.OPENING);
        assertAll(post(client, quick, 20), 204);
        assertThat(silent.count("answer")).as("all of the other receiver's were delivered first").isZero();

        silent.answerAll();
        assertAll(toSilent, 204);
    }

    @Test
    void aReceiverSlowToAnswerStillGetsEveryDeliveryOneStallAfterAnother() throws Exception {
        HeldReceiver slow = closing(new HeldReceiver());
        CloseableHttpClient client = client(TimeUnit.MILLISECONDS.toNanos(20));

        List<Future<Integer>> statuses = post(client, slow, 12);
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.count("request") == 12);
        assertThat(slow.count("answer")).as("every delivery reached it though it answered none").isZero();

        slow.answerAll();
        assertAll(statuses, 204);
    }
}
