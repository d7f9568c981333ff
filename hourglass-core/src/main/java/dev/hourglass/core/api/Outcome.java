package dev.hourglass.core.api;

import java.time.Duration;
import java.util.Objects;

/** What a handler decided. A value, not an exception: retries and give-ups are ordinary results. */
public sealed interface Outcome {

    /** The attempt succeeded: the job is SUCCEEDED. */
    record Succeeded() implements Outcome {}

    /**
     * Try again: after {@code after} if given, else after the job's backoff. When attempts are exhausted the job is
     * FAILED with {@code reason} as its last error.
     */
    record Retry(Duration after, String reason) implements Outcome {
        public Retry {
            Objects.requireNonNull(reason, "reason");
            if (after != null && after.isNegative()) {
                throw new IllegalArgumentException("retry delay must be >= 0");
            }
        }
    }

    /** Give up now: the job is FAILED (the dead-letter state) with {@code reason} as its last error. */
    record Failed(String reason) implements Outcome {
        public Failed {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The job should not run any more: it is CANCELLED. */
    record Cancelled(String reason) implements Outcome {
        public Cancelled {
            Objects.requireNonNull(reason, "reason");
        }
    }

    static Outcome succeeded() {
        return new Succeeded();
    }

    static Outcome retry(String reason) {
        return new Retry(null, reason);
    }

    static Outcome retryAfter(Duration after, String reason) {
        return new Retry(Objects.requireNonNull(after, "after"), reason);
    }

    static Outcome failed(String reason) {
        return new Failed(reason);
    }

    static Outcome cancelled(String reason) {
        return new Cancelled(reason);
    }
}
