package dev.hourglass.schedules;

import java.time.Instant;
import java.time.OffsetDateTime;

/** A run time of a preview: the instant, and the wall-clock time with its offset in the schedule's zone. */
public record RunTime(Instant at, OffsetDateTime local) {}
