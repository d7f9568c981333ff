package dev.hourglass.core.store;

import dev.hourglass.core.model.Job;

/** The outcome of a cancel, a reschedule or a retry by hand: a compare-and-set on the state the change needs. */
public sealed interface ChangeResult {

    /** The change was made; {@code job} is the job after it. */
    record Changed(Job job) implements ChangeResult {}

    /**
     * The job exists but is not in the state the change needs (SCHEDULED; FAILED for a retry by hand); {@code job}
     * is as it is.
     */
    record WrongState(Job job) implements ChangeResult {}

    /** No such job (for this tenant). */
    record NotFound() implements ChangeResult {}
}
