package dev.hourglass.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RepeatedWarningTest {
    private final AtomicLong nanos = new AtomicLong(5_000);
    private final RepeatedWarning warning = new RepeatedWarning(nanos::get, Duration.ofMinutes(1));

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void theFirstFailureIsLoggedThenAtMostOneLinePerIntervalCountingTheOnesLeftOut() {
        assertThat(warning.failed()).isEqualTo(1);
        for (int i = 0; i < 599; i++) { // every 100 ms for the rest of the minute
            advance(Duration.ofMillis(100));
            assertThat(warning.failed()).as("failure %d", i + 2).isZero();
        }
        advance(Duration.ofMillis(99));
        assertThat(warning.failed()).as("59.999 s after the first line").isZero();
        advance(Duration.ofMillis(1));
        assertThat(warning.failed()).as("a minute after the first line: the 600 left out and this one")
                .isEqualTo(601);
        advance(Duration.ofSeconds(30));
        assertThat(warning.failed()).isZero();
    }

    @Test
    void aSuccessEndsTheRunSoTheNextFailureIsLoggedAtOnce() {
        assertThat(warning.failed()).isEqualTo(1);
        advance(Duration.ofMillis(100));
        assertThat(warning.failed()).isZero();
        assertThat(warning.succeeded()).as("the run had two failures").isEqualTo(2);
        assertThat(warning.succeeded()).as("no run").isZero();

        advance(Duration.ofMillis(100));
        assertThat(warning.failed()).as("a new run").isEqualTo(1);
    }
}
