package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import java.time.Instant;

/**
 * Finish a running attempt. For a retry ({@code to == SCHEDULED}) {@code dueAt} is the next attempt's due time and
 * {@code nextOwner} the node that keeps the claim (null to leave it for the horizon loader).
 */
public record FinishRun(
        JobId id, String owner, long fencingToken, JobState to, Instant dueAt, String nextOwner, String error,
        Instant now) {}
