package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import java.time.Instant;

/** Cancel a job of {@code tenant} (null = any tenant, for operators). */
public record CancelRequest(JobId id, String tenant, Instant now) {}
