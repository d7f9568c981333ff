package dev.hourglass.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.junit.jupiter.api.Test;

class DeliveryTracingTest {

    @Test
    void urlFullKeepsNoQueryValueNoUserInfoAndNoFragment() {
        assertThat(DeliveryTracing.redacted(URI.create("https://hooks.example.com/in/42?token=abc&sig=x%20y&flag#top")))
                .isEqualTo("https://hooks.example.com/in/42?token=REDACTED&sig=REDACTED&flag");
        assertThat(DeliveryTracing.redacted(URI.create("https://user:pass@hooks.example.com:8443/in")))
                .isEqualTo("https://REDACTED:REDACTED@hooks.example.com:8443/in");
        assertThat(DeliveryTracing.redacted(URI.create("http://[::1]:8080"))).isEqualTo("http://[::1]:8080");
    }

    @Test
    void aTimeoutIsTimeoutAndAnyOtherFailureItsClass() {
        assertThat(DeliveryTracing.AttemptSpan.errorType(new SocketTimeoutException("read timed out")))
                .isEqualTo("timeout");
        assertThat(DeliveryTracing.AttemptSpan.errorType(new ConnectTimeoutException("connect timed out")))
                .isEqualTo("timeout");
        assertThat(DeliveryTracing.AttemptSpan.errorType(new ConnectException("refused")))
                .isEqualTo("java.net.ConnectException");
        assertThat(DeliveryTracing.AttemptSpan.errorType(new IOException())).isEqualTo("java.io.IOException");
    }
}
