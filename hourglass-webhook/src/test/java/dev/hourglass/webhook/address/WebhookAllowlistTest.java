package dev.hourglass.webhook.address;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import inet.ipaddr.IPAddressString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WebhookAllowlistTest {
    @Test
    void readsRangesAddressesAndNames() {
        WebhookAllowlist list = WebhookAllowlist.parse(" 10.0.0.0/8, ::1 ,Hooks.Internal., 127.0.0.1,, fd00::/8");
        assertThat(list.toString()).isEqualTo("10.0.0.0/8, ::1, 127.0.0.1, fd00::/8, hooks.internal");
        assertThat(list.permits(ip("10.200.0.1"))).isTrue();
        assertThat(list.permits(ip("11.0.0.1"))).isFalse();
        assertThat(list.permits(ip("fd00::5"))).isTrue();
        assertThat(list.permits(ip("::2"))).isFalse();
        assertThat(list.permitsHost("hooks.internal")).isTrue();
        assertThat(list.permitsHost("HOOKS.internal.")).isTrue();
        assertThat(list.permitsHost("other.internal")).isFalse();
    }

    @Test
    void emptyAndAbsentMeanNone() {
        assertThat(WebhookAllowlist.parse(null).isEmpty()).isTrue();
        assertThat(WebhookAllowlist.parse(" , ").isEmpty()).isTrue();
        assertThat(WebhookAllowlist.none().toString()).isEqualTo("none");
    }

    @Test
    void aRangeWithHostBitsSetIsRefusedWithTheRangeMeant() {
        assertThatThrownBy(() -> WebhookAllowlist.parse("10.0.0.1/8"))
                .hasMessageContaining("did you mean 10.0.0.0/8?");
    }

    /** Entries must mean what they read: no shorthands, wildcards, masks or ranges. */
    @ParameterizedTest
    @ValueSource(strings = {"*", "0x7f.1", "127.1", "2130706433", "10.*.*.*", "10.0.0.0/255.0.0.0",
        "10.0.0.1-10.0.0.9", "http://localhost", "local host", "-bad.example", "0x7f", "hooks.1"})
    void anEntryThatIsNeitherARangeNorANameIsRefusedByName(String entry) {
        assertThatThrownBy(() -> WebhookAllowlist.parse("localhost," + entry))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + entry + "'");
    }

    private static inet.ipaddr.IPAddress ip(String text) {
        return new IPAddressString(text).getAddress();
    }
}
