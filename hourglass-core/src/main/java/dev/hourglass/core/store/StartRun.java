package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import java.time.Instant;

/** Start the attempt of a job this node claimed with {@code fencingToken}. */
public record StartRun(JobId id, String owner, long fencingToken, Instant now) {}
