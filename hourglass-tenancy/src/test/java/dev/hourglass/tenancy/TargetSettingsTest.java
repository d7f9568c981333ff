package dev.hourglass.tenancy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.monitor.AlarmPolicy;
import dev.hourglass.core.targets.TargetPolicy;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TargetSettingsTest {

    @Test
    void defaultsAreTheMonitorsWithoutAutoPauseOrOperationsWebhook() {
        TargetSettings d = TargetSettings.DEFAULTS;

        assertThat(d.raiseAt()).isEqualTo(0.5);
        assertThat(d.clearAt()).isEqualTo(0.2);
        assertThat(d.minAttempts()).isEqualTo(10);
        assertThat(d.consecutiveFailures()).isEqualTo(20);
        assertThat(d.autoPause()).isFalse();
        assertThat(d.autoPauseAfterSeconds()).isEqualTo(1_800);
        assertThat(d.operationsWebhook()).isNull();
        assertThat(d.policy()).isEqualTo(TargetPolicy.DEFAULTS);
    }

    @Test
    void policyTakesTheThresholdsAndAutoPauseAndKeepsTheDefaultStreaksAndProbes() {
        TargetPolicy policy = new TargetSettings(0.9, 0.4, 3, 5, true, 120, null).policy();

        assertThat(policy.alarm()).isEqualTo(new AlarmPolicy(0.9, 0.4, 3, 5, 2, 3));
        assertThat(policy.autoPause()).isTrue();
        assertThat(policy.pauseAfter()).isEqualTo(Duration.ofMinutes(2));
        assertThat(policy.firstProbeAfter()).isEqualTo(TargetPolicy.DEFAULT_FIRST_PROBE_AFTER);
        assertThat(policy.maxProbeInterval()).isEqualTo(TargetPolicy.DEFAULT_MAX_PROBE_INTERVAL);
    }

    @Test
    void problemsNameEveryFieldOutOfRange() {
        assertThat(TargetSettings.problems(0, 1.0, 0, 0, 59, URI.create("ftp://example.com/x")))
                .extracting(TargetSettings.Problem::field)
                .containsExactly("raiseAt", "clearAt", "minAttempts", "consecutiveFailures", "autoPauseAfterSeconds",
                        "operationsWebhook");
        assertThat(TargetSettings.problems(Double.NaN, -0.1, 1, 1, 60, null)).extracting(TargetSettings.Problem::field)
                .containsExactly("raiseAt", "clearAt");
        assertThat(TargetSettings.problems(1.0, 0.0, 1, 1, TargetSettings.MAX_AUTO_PAUSE_AFTER_SECONDS,
                URI.create("https://ops.example.com/hook"))).isEmpty();
        assertThat(TargetSettings.problems(1.0, 0.0, 1, 1, TargetSettings.MAX_AUTO_PAUSE_AFTER_SECONDS + 1, null))
                .extracting(TargetSettings.Problem::field).containsExactly("autoPauseAfterSeconds");
    }

    @Test
    void clearAtMustLeaveAGapBelowRaiseAt() {
        assertThatThrownBy(() -> TargetSettings.DEFAULTS.withThresholds(0.5, 0.5, 10, 20))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("clearAt must be below raiseAt");
    }

    @Test
    void theOperationsWebhookIsAnHttpUrlWithAHost() {
        assertThatThrownBy(() -> TargetSettings.DEFAULTS.withOperationsWebhook(URI.create("mailto:ops@example.com")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("operationsWebhook ");
        assertThat(TargetSettings.DEFAULTS.withOperationsWebhook(URI.create("http://ops.example.com:8080/h"))
                .operationsWebhook()).hasHost("ops.example.com");
    }
}
