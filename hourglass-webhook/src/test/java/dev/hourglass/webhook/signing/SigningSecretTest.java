package dev.hourglass.webhook.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class SigningSecretTest {
    @Test
    void readsAndWritesTheWhsecForm() {
        String text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        SigningSecret secret = SigningSecret.parse("  " + text + "\n");
        assertThat(secret.encoded()).isEqualTo(text);
        assertThat(secret.key()).hasSize(24);
        assertThat(secret).isEqualTo(SigningSecret.parse(text)).hasSameHashCodeAs(SigningSecret.parse(text));
    }

    @Test
    void generatesThirtyTwoRandomBytes() {
        SigningSecret a = SigningSecret.generate();
        assertThat(a.key()).hasSize(32);
        assertThat(SigningSecret.parse(a.encoded())).isEqualTo(a);
        assertThat(SigningSecret.generate()).isNotEqualTo(a);
    }

    @Test
    void neverPrintsTheKey() {
        SigningSecret secret = SigningSecret.generate();
        String base64 = secret.encoded().substring(SigningSecret.PREFIX.length());
        assertThat(secret.toString()).doesNotContain(base64).contains(secret.keyId());
        assertThat(secret.keyId()).matches("[0-9a-f]{8}");
    }

    @Test
    void refusesWhatIsNotASecretWithoutEchoingIt() {
        assertThatThrownBy(() -> SigningSecret.parse("hunter2hunter2hunter2hunter2hunter2"))
                .hasMessageContaining("must start with whsec_").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> SigningSecret.parse("whsec_not*base64"))
                .hasMessageContaining("base64").hasMessageNotContaining("not*base64");
        String tooShort = Base64.getEncoder().encodeToString(new byte[23]);
        assertThatThrownBy(() -> SigningSecret.parse("whsec_" + tooShort)).hasMessageContaining("24 to 64 bytes");
        String tooLong = Base64.getEncoder().encodeToString(new byte[65]);
        assertThatThrownBy(() -> SigningSecret.parse("whsec_" + tooLong)).hasMessageContaining("was 65");
    }
}
