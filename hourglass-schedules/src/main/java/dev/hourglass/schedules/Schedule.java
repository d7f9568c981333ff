package dev.hourglass.schedules;

import java.time.Instant;
import java.util.Objects;

/**
 * A recurring schedule as stored: its definition and the state its materializer keeps. Immutable; every change is a
 * new value with {@code version + 1}, written with a compare-and-set on the old version.
 *
 * @param id                   {@code sch_} and a UUID
 * @param revision             goes up when the runs to come are replaced (a new definition, a resume); part of each
 *                             run's idempotency key
 * @param materializedThrough  the nominal time of the latest run created, null before the first
 * @param materializeAt        when the materializer must look at the schedule next; null while paused or ended
 * @param nextRunAt            the nominal time of the next run, null if there is none
 * @param lastRunAt            the nominal time of the latest run that came due, null before the first; read from the
 *                             schedule's runs when it is shown ({@link #withLastRunAt}), not stored
 */
public record Schedule(
        String id,
        String tenant,
        ScheduleDefinition definition,
        boolean paused,
        long version,
        long revision,
        Instant createdAt,
        Instant updatedAt,
        Instant materializedThrough,
        Instant materializeAt,
        Instant nextRunAt,
        Instant lastRunAt,
        long missedRuns,
        long skippedRuns) {

    public Schedule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(definition, "definition");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    public String name() {
        return definition.name();
    }

    /** The next version: {@code definition}, {@code paused} and {@code revision} as given, changed at {@code now}. */
    Schedule next(Instant now, ScheduleDefinition definition, boolean paused, long revision,
            Instant materializedThrough, Instant materializeAt, Instant nextRunAt, long missedRuns) {
        return new Schedule(id, tenant, definition, paused, version + 1, revision, createdAt, now,
                materializedThrough, materializeAt, nextRunAt, lastRunAt, missedRuns, skippedRuns);
    }

    /** This value with the nominal time of the next run. */
    public Schedule withNextRunAt(Instant value) {
        return new Schedule(id, tenant, definition, paused, version, revision, createdAt, updatedAt,
                materializedThrough, materializeAt, value, lastRunAt, missedRuns, skippedRuns);
    }

    /** This value with the nominal time of the latest run that came due (read from the runs, not stored here). */
    public Schedule withLastRunAt(Instant value) {
        return new Schedule(id, tenant, definition, paused, version, revision, createdAt, updatedAt,
                materializedThrough, materializeAt, nextRunAt, value, missedRuns, skippedRuns);
    }
}
