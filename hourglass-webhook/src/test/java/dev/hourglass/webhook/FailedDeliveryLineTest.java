package dev.hourglass.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The log line of a failed delivery gives its reason, never what the receiver answered. */
class FailedDeliveryLineTest {
    @Test
    void aFailureStatusIsLoggedWithoutTheExcerptOfTheAnswer() {
        assertThat(WebhookHandler.loggedReason("HTTP 500: {\"token\": \"abc\"}", 500)).isEqualTo("HTTP 500");
        assertThat(WebhookHandler.loggedReason("HTTP 503", 503)).isEqualTo("HTTP 503");
    }

    @Test
    void otherReasonsAreLoggedAsTheyAre() {
        assertThat(WebhookHandler.loggedReason("connection refused", 0)).isEqualTo("connection refused");
        assertThat(WebhookHandler.loggedReason("request failed: SocketException: Connection reset", 0))
                .isEqualTo("request failed: SocketException: Connection reset");
    }
}
