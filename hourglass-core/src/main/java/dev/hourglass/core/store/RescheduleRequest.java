package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import java.time.Instant;

/** Move a SCHEDULED job of {@code tenant} (null = any) to {@code dueAt}; {@code owner} claims it (null = nobody). */
public record RescheduleRequest(JobId id, String tenant, Instant dueAt, String owner, Instant now) {}
