package dev.hourglass.core.store;

import dev.hourglass.core.model.Job;

/** The outcome of one insert. */
public sealed interface InsertResult {
    Job job();

    /** The job was inserted. */
    record Created(Job job) implements InsertResult {}

    /** The idempotency key was used before by an identical request: {@code job} is the earlier job. */
    record Duplicate(Job job) implements InsertResult {}

    /** The idempotency key was used before by a different request: {@code job} is the earlier job. */
    record Conflict(Job job) implements InsertResult {}
}
