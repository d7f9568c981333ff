package dev.hourglass.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.junit.jupiter.api.Test;

/** How an attempt ends the exchange of a 2xx ({@link ResponseBodies}), on a real socket. */
class ResponseBodiesTest {

    @Test
    void aSmallBodySentAfterItsStatusKeepsItsConnectionAndTheAttemptDoesNotWaitForIt() throws Exception {
        PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
        try (HeldReceiver receiver = new HeldReceiver(true);
                CloseableHttpClient client = HttpClients.custom().setConnectionManager(pool).build()) {
            receiver.answerAll();
            HttpPost first = post(receiver);
            ClassicHttpResponse response = client.executeOpen(null, first, null);
            assertThat(response.getCode()).isEqualTo(200);

            // Returns while the receiver still holds the body (else this would wait forever): the attempt is over.
            ResponseBodies.finishSuccess(first, response);
            assertThat(pool.getTotalStats().getAvailable()).as("not back in the pool before its body").isZero();

            receiver.sendBodies(2);
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.getTotalStats().getAvailable() == 1);
            HttpPost second = post(receiver);
            ClassicHttpResponse again = client.executeOpen(null, second, null);
            assertThat(again.getCode()).isEqualTo(200);
            ResponseBodies.finishSuccess(second, again);

            assertThat(receiver.count("request")).isEqualTo(2);
            assertThat(receiver.count("accept")).as("the second delivery on the first one's connection").isEqualTo(1);
        }
    }

    private static HttpPost post(HeldReceiver to) {
        HttpPost post = new HttpPost(to.url());
        post.setEntity(new StringEntity("{}"));
        return post;
    }
}
