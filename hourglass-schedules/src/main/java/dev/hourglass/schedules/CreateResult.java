package dev.hourglass.schedules;

/** The outcome of creating a schedule. */
public sealed interface CreateResult {

    /** The schedule was stored. */
    record Created(Schedule schedule) implements CreateResult {}

    /** The Idempotency-Key was used before by the same request: {@code scheduleId} is the schedule it created. */
    record Duplicate(String scheduleId) implements CreateResult {}

    /** The Idempotency-Key was used before by a different request, which created {@code scheduleId}. */
    record Conflict(String scheduleId) implements CreateResult {}

    /** The tenant has a schedule of that name; nothing was stored. */
    record NameTaken() implements CreateResult {}
}
