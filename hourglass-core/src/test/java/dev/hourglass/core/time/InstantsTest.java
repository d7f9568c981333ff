package dev.hourglass.core.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class InstantsTest {
    @Test
    void roundsUpToTheNextMillisecondNeverDown() {
        Instant exact = Instant.parse("2026-11-26T12:00:00.123Z");
        assertThat(Instants.ceilMillis(exact)).isEqualTo(exact);
        assertThat(Instants.ceilMillis(exact.plusNanos(1))).isEqualTo(Instant.parse("2026-11-26T12:00:00.124Z"));
        assertThat(Instants.ceilMillis(exact.plusNanos(999_999))).isEqualTo(Instant.parse("2026-11-26T12:00:00.124Z"));
        Instant beforeEpoch = Instant.ofEpochMilli(-5).plusNanos(1);
        assertThat(Instants.ceilMillis(beforeEpoch)).isEqualTo(Instant.ofEpochMilli(-4));
    }
}
