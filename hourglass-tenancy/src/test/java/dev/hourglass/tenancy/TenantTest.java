package dev.hourglass.tenancy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TenantTest {
    private static final Instant T = Instant.parse("2030-01-01T00:00:00Z");

    private static Tenant withSecrets(List<String> secrets) {
        return new Tenant("acme", 1, Quotas.DEFAULTS, secrets, TargetSettings.DEFAULTS, T, T);
    }

    @Test
    void namesAreLowerCaseLettersDigitsAndPunctuationStartingWithALetterOrDigit() {
        assertThat(Tenant.validName("a")).isTrue();
        assertThat(Tenant.validName("0-team_x.y")).isTrue();
        assertThat(Tenant.validName("a".repeat(100))).isTrue();
        assertThat(Tenant.validName("a".repeat(101))).isFalse();
        assertThat(Tenant.validName("")).isFalse();
        assertThat(Tenant.validName("-a")).isFalse();
        assertThat(Tenant.validName("Acme")).isFalse();
        assertThat(Tenant.validName(null)).isFalse();
    }

    @Test
    void weightIsBetweenOneAndTheMaximum() {
        Tenant tenant = withSecrets(List.of("whsec_a"));

        assertThat(tenant.withWeight(Tenant.MAX_WEIGHT).weight()).isEqualTo(Tenant.MAX_WEIGHT);
        assertThatThrownBy(() -> tenant.withWeight(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("weight");
        assertThatThrownBy(() -> tenant.withWeight(Tenant.MAX_WEIGHT + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void secretsAreCopiedAndMustNotBeEmptyBlankOrContainLineBreaks() {
        List<String> secrets = new ArrayList<>(List.of("whsec_new", "whsec_old"));
        Tenant tenant = withSecrets(secrets);
        secrets.clear();
        assertThat(tenant.webhookSecrets()).containsExactly("whsec_new", "whsec_old");

        assertThatThrownBy(() -> withSecrets(List.of())).hasMessageContaining("webhookSecrets");
        // A store may keep the list as lines of text: a line break would split one secret into two.
        assertThatThrownBy(() -> withSecrets(List.of("whsec_a\nwhsec_b"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line breaks");
        assertThatThrownBy(() -> withSecrets(List.of("whsec_a\r"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> withSecrets(List.of("whsec_a", " "))).isInstanceOf(IllegalArgumentException.class);
    }
}
