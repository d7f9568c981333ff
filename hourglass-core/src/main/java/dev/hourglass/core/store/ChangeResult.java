package dev.hourglass.core.store;

import dev.hourglass.core.model.Job;

/** The outcome of a cancel or reschedule: a compare-and-set on state SCHEDULED. */
public sealed interface ChangeResult {

    /** The change was made; {@code job} is the job after it. */
    record Changed(Job job) implements ChangeResult {}

    /** The job exists but is not SCHEDULED; {@code job} is as it is. */
    record WrongState(Job job) implements ChangeResult {}

    /** No such job (for this tenant). */
    record NotFound() implements ChangeResult {}
}
