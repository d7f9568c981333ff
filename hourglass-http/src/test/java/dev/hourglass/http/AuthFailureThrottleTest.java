package dev.hourglass.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthFailureThrottleTest {
    private final AtomicLong nanos = new AtomicLong(-7_000_000_000L); // the ticker's origin is arbitrary
    private final AuthFailureThrottle throttle = new AuthFailureThrottle(nanos::get, 20);

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void twentyFailuresAMinuteAreCheckedTheTwentyFirstWaitsForTheAllowanceOfOne() {
        for (int i = 0; i < 20; i++) {
            assertThat(throttle.retryAfterSeconds("10.0.0.1")).as("failure %d may be checked", i + 1).isZero();
            throttle.failed("10.0.0.1");
        }
        assertThat(throttle.retryAfterSeconds("10.0.0.1")).as("one failure's allowance: 60 s / 20").isEqualTo(3);
        advance(Duration.ofMillis(2_001));
        assertThat(throttle.retryAfterSeconds("10.0.0.1")).as("rounded up").isEqualTo(1);
        advance(Duration.ofMillis(998));
        assertThat(throttle.retryAfterSeconds("10.0.0.1")).isEqualTo(1);
        advance(Duration.ofMillis(1));
        assertThat(throttle.retryAfterSeconds("10.0.0.1")).as("3 s later: one more try").isZero();
        throttle.failed("10.0.0.1");
        assertThat(throttle.retryAfterSeconds("10.0.0.1")).isEqualTo(3);
    }

    @Test
    void failuresSpreadOverTheMinuteAreNeverThrottled() {
        for (int i = 0; i < 200; i++) {
            assertThat(throttle.retryAfterSeconds("10.0.0.1")).isZero();
            throttle.failed("10.0.0.1");
            advance(Duration.ofSeconds(3));
        }
    }

    @Test
    void eachAddressHasItsOwnAllowance() {
        for (int i = 0; i < 20; i++) {
            throttle.failed("10.0.0.1");
        }
        assertThat(throttle.retryAfterSeconds("10.0.0.1")).isPositive();
        assertThat(throttle.retryAfterSeconds("10.0.0.2")).isZero();
        assertThat(throttle.retryAfterSeconds("::1")).isZero();
    }

    @Test
    void afterAQuietMinuteTheWholeAllowanceIsBack() {
        for (int i = 0; i < 20; i++) {
            throttle.failed("10.0.0.1");
        }
        advance(Duration.ofMinutes(1));
        for (int i = 0; i < 20; i++) {
            assertThat(throttle.retryAfterSeconds("10.0.0.1")).isZero();
            throttle.failed("10.0.0.1");
        }
        assertThat(throttle.retryAfterSeconds("10.0.0.1")).isEqualTo(3);
    }

    @Test
    void theNumberOfTrackedAddressesIsBoundedAndPaidOffOnesAreForgotten() {
        for (int i = 0; i < AuthFailureThrottle.MAX_CLIENTS; i++) {
            throttle.failed("client-" + i);
        }
        throttle.failed("one-too-many");
        assertThat(throttle.retryAfterSeconds("one-too-many")).isZero();
        for (int i = 0; i < 20; i++) {
            throttle.failed("one-too-many");
        }
        assertThat(throttle.retryAfterSeconds("one-too-many")).as("untracked while the table is full").isZero();

        advance(Duration.ofSeconds(4)); // every tracked address has paid off its one failure
        for (int i = 0; i < 20; i++) {
            throttle.failed("one-too-many");
        }
        assertThat(throttle.retryAfterSeconds("one-too-many")).isEqualTo(3);
    }
}
