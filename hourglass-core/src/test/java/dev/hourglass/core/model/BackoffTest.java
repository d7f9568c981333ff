package dev.hourglass.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private final Backoff backoff = Backoff.DEFAULT; // 1 s doubling, capped at 1 h

    @Test
    void doublesFromOneSecondWithJitterInTheUpperHalf() {
        assertThat(backoff.delayAfter(1, 0.0)).isEqualTo(Duration.ofMillis(500));
        assertThat(backoff.delayAfter(1, 0.999)).isBetween(Duration.ofMillis(999), Duration.ofSeconds(1));
        assertThat(backoff.delayAfter(2, 0.0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff.delayAfter(3, 0.0)).isEqualTo(Duration.ofSeconds(2));
        assertThat(backoff.delayAfter(4, 0.5)).isEqualTo(Duration.ofMillis(6000));
    }

    @Test
    void isCappedAtTheMaximumEvenForHugeAttemptCounts() {
        assertThat(backoff.delayAfter(13, 1.0)).isLessThanOrEqualTo(Duration.ofHours(1));
        assertThat(backoff.delayAfter(1_000, 0.0)).isEqualTo(Duration.ofMinutes(30));
        assertThat(backoff.delayAfter(Integer.MAX_VALUE, 0.99)).isLessThanOrEqualTo(Duration.ofHours(1));
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessageContaining("initial");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageContaining("max");
    }
}
