package dev.hourglass.queues;

import java.util.Objects;

/** How one publish ended, as the system answered it. */
public sealed interface PublishResult {

    /** The system took the message durably (the broker's acknowledgement); {@code reference} names where. */
    record Accepted(String reference) implements PublishResult {}

    /** The system could not be reached or did not take the message: worth trying again. */
    record Unavailable(String reason) implements PublishResult {
        public Unavailable {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** No answer within the attempt's time: it may or may not have been taken; worth trying again. */
    record TimedOut(String reason) implements PublishResult {
        public TimedOut {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * The system refused the message, and will refuse it again: an unknown exchange, an unroutable message, no
     * permission, a message too large. Not retried.
     */
    record Refused(String reason) implements PublishResult {
        public Refused {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
