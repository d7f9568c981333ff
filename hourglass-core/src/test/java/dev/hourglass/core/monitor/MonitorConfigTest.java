package dev.hourglass.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class MonitorConfigTest {
    private static final Duration MINUTE = Duration.ofMinutes(1);

    @Test
    void defaultsAreOneMinuteBucketsInAFifteenMinuteWindow() {
        MonitorConfig d = MonitorConfig.DEFAULTS;
        assertThat(d.bucket()).isEqualTo(MINUTE);
        assertThat(d.window()).isEqualTo(Duration.ofMinutes(15));
        assertThat(d.averageTimeConstant()).isEqualTo(Duration.ofMinutes(5));
        assertThat(d.maxSources()).isEqualTo(10_000);
        assertThat(d.bucketCount()).isEqualTo(15);
    }

    @Test
    void bucketsAlignToMultiplesOfTheWidthSinceTheEpochAlsoBeforeIt() {
        MonitorConfig c = new MonitorConfig(MINUTE, Duration.ofMinutes(5), MINUTE, 10);
        Instant t0 = Instant.parse("2026-12-07T12:00:00Z");
        assertThat(c.bucketStart(t0)).isEqualTo(t0);
        assertThat(c.bucketStart(t0.plusSeconds(59).plusMillis(999))).isEqualTo(t0);
        assertThat(c.bucketStart(t0.minusMillis(1))).isEqualTo(t0.minus(MINUTE));
        assertThat(c.bucketStart(Instant.ofEpochMilli(-1))).isEqualTo(Instant.ofEpochMilli(-60_000));
        // The window at now holds now's bucket and the four before it.
        assertThat(c.windowStart(t0.plusSeconds(30))).isEqualTo(t0.minus(Duration.ofMinutes(4)));
    }

    @Test
    void refusesSettingsOutOfRangeNamingTheField() {
        Duration five = Duration.ofMinutes(5);
        assertThatThrownBy(() -> new MonitorConfig(Duration.ZERO, five, MINUTE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bucket must be > 0");
        assertThatThrownBy(() -> new MonitorConfig(Duration.ofMillis(-1), five, MINUTE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bucket must be > 0");
        assertThatThrownBy(() -> new MonitorConfig(Duration.ofNanos(1_500_000), five, MINUTE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number of milliseconds");
        assertThatThrownBy(() -> new MonitorConfig(MINUTE, Duration.ZERO, MINUTE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window must be > 0");
        assertThatThrownBy(() -> new MonitorConfig(MINUTE, Duration.ofSeconds(90), MINUTE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window must be a whole multiple");
        assertThatThrownBy(() -> new MonitorConfig(MINUTE, Duration.ofSeconds(30), MINUTE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window must be a whole multiple");
        assertThatThrownBy(() -> new MonitorConfig(Duration.ofMillis(1), Duration.ofMillis(10_001), MINUTE, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 10000 buckets");
        assertThatThrownBy(() -> new MonitorConfig(MINUTE, five, Duration.ZERO, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("averageTimeConstant must be > 0");
        assertThatThrownBy(() -> new MonitorConfig(MINUTE, five, MINUTE, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSources must be >= 1");
        assertThatThrownBy(() -> new MonitorConfig(null, five, MINUTE, 1)).isInstanceOf(NullPointerException.class);
        // The edges that are allowed.
        assertThat(new MonitorConfig(MINUTE, MINUTE, Duration.ofMillis(1), 1).bucketCount()).isEqualTo(1);
        assertThat(new MonitorConfig(Duration.ofMillis(1), Duration.ofMillis(10_000), MINUTE, 1).bucketCount())
                .isEqualTo(10_000);
    }
}
