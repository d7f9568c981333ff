package dev.hourglass.webhook.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebhookSignerTest {
    /*
     * The Standard Webhooks test vector, from the spec's reference libraries: repository
     * github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts ("sign function
     * works") and libraries/python/tests/test_webhooks.py (test_sign_function), the same values in both.
     */
    private static final SigningSecret SPEC_SECRET = SigningSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    private static final String SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private static final long SPEC_TIMESTAMP = 1614265330;
    private static final byte[] SPEC_PAYLOAD = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
    private static final String SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    @Test
    void signsTheSpecsTestVector() {
        assertThat(WebhookSigner.signature(SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD, List.of(SPEC_SECRET)))
                .isEqualTo(SPEC_SIGNATURE);
    }

    @Test
    void signsWithEverySecretSpaceSeparatedNewestFirst() {
        SigningSecret newer = SigningSecret.generate();
        String header = WebhookSigner.signature(SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD, List.of(newer, SPEC_SECRET));
        assertThat(header.split(" ")).containsExactly(
                WebhookSigner.signature(SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD, List.of(newer)),
                SPEC_SIGNATURE);
    }

    @Test
    void theSignatureCoversIdTimestampAndEveryByteOfTheBody() {
        String base = WebhookSigner.signature("a", 1, SPEC_PAYLOAD, List.of(SPEC_SECRET));
        assertThat(WebhookSigner.signature("b", 1, SPEC_PAYLOAD, List.of(SPEC_SECRET))).isNotEqualTo(base);
        assertThat(WebhookSigner.signature("a", 2, SPEC_PAYLOAD, List.of(SPEC_SECRET))).isNotEqualTo(base);
        byte[] tampered = SPEC_PAYLOAD.clone();
        tampered[tampered.length - 2]++;
        assertThat(WebhookSigner.signature("a", 1, tampered, List.of(SPEC_SECRET))).isNotEqualTo(base);
    }

    @Test
    void signsNowWithTheTenantsSecretsAndTheMessageIdAsGiven() {
        WebhookSigner signer = new WebhookSigner(tenant -> List.of(SPEC_SECRET),
                InstantSource.fixed(Instant.ofEpochSecond(SPEC_TIMESTAMP, 999_000_000)));
        WebhookSigner.SignedHeaders headers = signer.sign("default", SPEC_MSG_ID, SPEC_PAYLOAD);
        assertThat(headers.id()).isEqualTo(SPEC_MSG_ID);
        assertThat(headers.timestamp()).as("whole seconds, rounded down").isEqualTo(SPEC_TIMESTAMP);
        assertThat(headers.signature()).isEqualTo(SPEC_SIGNATURE);
    }

    @Test
    void refusesAMessageIdWithADotAndAnEmptySecretList() {
        assertThatThrownBy(() -> WebhookSigner.signature("a.b", 1, SPEC_PAYLOAD, List.of(SPEC_SECRET)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WebhookSigner.signature("a", 1, SPEC_PAYLOAD, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
