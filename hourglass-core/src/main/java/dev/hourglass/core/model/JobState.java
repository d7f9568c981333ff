package dev.hourglass.core.model;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life cycle of a job. This enum is the single source of truth for which state changes are allowed;
 * stores guard every write with a compare-and-set on the expected state taken from {@link Transition}, and the
 * SQL schemas repeat the same table as a CHECK/trigger so that no code path can bypass it.
 *
 * <pre>
 * SCHEDULED -> RUNNING      (claimed and started; attempts + 1)
 * SCHEDULED -> CANCELLED    (cancel before it started)
 * RUNNING   -> SUCCEEDED    (handler succeeded)
 * RUNNING   -> SCHEDULED    (retry with backoff, or rescued after its owner's lease expired)
 * RUNNING   -> FAILED       (attempts exhausted or handler gave up: the dead-letter state)
 * RUNNING   -> CANCELLED    (the handler itself asked to cancel)
 * FAILED    -> SCHEDULED    (retried by hand)
 * </pre>
 */
public enum JobState {
    SCHEDULED,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED;

    /** The states this state may move to. A state never "moves" to itself through this table. */
    public Set<JobState> allowedNext() {
        return switch (this) {
            case SCHEDULED -> EnumSet.of(RUNNING, CANCELLED);
            case RUNNING -> EnumSet.of(SUCCEEDED, SCHEDULED, FAILED, CANCELLED);
            case FAILED -> EnumSet.of(SCHEDULED);
            case SUCCEEDED, CANCELLED -> EnumSet.noneOf(JobState.class);
        };
    }

    public boolean canMoveTo(JobState next) {
        return allowedNext().contains(next);
    }

    /** Terminal states are final except FAILED, which an operator may retry by hand. */
    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
