package dev.hourglass.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.message.BasicHttpResponse;
import org.junit.jupiter.api.Test;

class StaleConnectionRetryTest {
    private final StaleConnectionRetry retry = new StaleConnectionRetry();
    private final HttpPost post = new HttpPost("http://127.0.0.1:1/hook");

    @Test
    void resendsOnceWhenTheReceiverClosedAPooledConnectionWithoutAnswering() {
        NoHttpResponseException stale = new NoHttpResponseException("The target server failed to respond");
        assertThat(retry.retryRequest(post, stale, 1, null)).isTrue();
        assertThat(retry.retryRequest(post, stale, 2, null)).as("only once").isFalse();
    }

    @Test
    void leavesEveryOtherFailureAndEveryStatusToTheEngine() {
        assertThat(retry.retryRequest(post, new ConnectException("refused"), 1, null)).isFalse();
        assertThat(retry.retryRequest(post, new SocketTimeoutException("read timed out"), 1, null)).isFalse();
        assertThat(retry.retryRequest(new BasicHttpResponse(503), 1, null)).isFalse();
        assertThat(retry.retryRequest(new BasicHttpResponse(429), 1, null)).isFalse();
    }
}
