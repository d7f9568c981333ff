package dev.hourglass.schedules;

import dev.hourglass.core.model.JobId;
import java.time.Instant;

/** One run of a schedule: the job created for the run nominally due at {@code nominalAt}. */
public record ScheduleRun(String scheduleId, Instant nominalAt, JobId jobId) {}
