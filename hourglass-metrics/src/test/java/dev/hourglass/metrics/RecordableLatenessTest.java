package dev.hourglass.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Lateness a timer can take, whatever the due time: a job due in year 1 must not kill its attempt's thread. */
class RecordableLatenessTest {
    @Test
    void latenessIsClampedToWhatATimerRecords() {
        assertThat(HourglassMetrics.recordable(Duration.ofMillis(-5))).isEqualTo(Duration.ZERO);
        assertThat(HourglassMetrics.recordable(Duration.ofMillis(7))).isEqualTo(Duration.ofMillis(7));
        Duration twoThousandYears = Duration.ofDays(365L * 2_026);
        assertThat(HourglassMetrics.recordable(twoThousandYears)).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
        HourglassMetrics.recordable(twoThousandYears).toNanos(); // what Timer.record does; must not overflow
    }
}
