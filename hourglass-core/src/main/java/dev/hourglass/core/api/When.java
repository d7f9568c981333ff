package dev.hourglass.core.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * When a job should run: {@link #after} a delay from now (on the engine's clock, when the call is made), or
 * {@link #at} an instant. The one way every schedule and reschedule says "when".
 *
 * <p>How the caller said it is part of the request's identity for idempotency: {@code after(PT5S)} sent twice is the
 * same request, although the two due times differ by the time between the calls.
 */
public sealed interface When {

    /** Due {@code delay} after the call; the delay must not be negative. */
    static When after(Duration delay) {
        return new After(delay);
    }

    /** Due at {@code instant}; an instant in the past means now. */
    static When at(Instant instant) {
        return new At(instant);
    }

    /** Due now: {@code after(Duration.ZERO)}. */
    static When now() {
        return new After(Duration.ZERO);
    }

    /** A delay from the moment of the call. */
    record After(Duration delay) implements When {
        public After {
            Objects.requireNonNull(delay, "delay");
        }

        @Override
        public String toString() {
            return "delay:" + delay; // part of the request hash: keep stable
        }
    }

    /** An instant on the wall clock. */
    record At(Instant instant) implements When {
        public At {
            Objects.requireNonNull(instant, "instant");
        }

        @Override
        public String toString() {
            return "at:" + instant; // part of the request hash: keep stable
        }
    }
}
