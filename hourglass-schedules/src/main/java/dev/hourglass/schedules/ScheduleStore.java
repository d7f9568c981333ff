package dev.hourglass.schedules;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where schedules and their runs are kept. Every change of a schedule is a compare-and-set on its version, so that of
 * several nodes (or calls) changing the same schedule one wins and the others read it again.
 */
public interface ScheduleStore {

    /** Stores a new schedule; false if its name is taken within its tenant (nothing was written). */
    default boolean create(Schedule schedule) {
        return create(schedule, null, null) instanceof CreateResult.Created;
    }

    /**
     * Stores a new schedule, remembering {@code idempotencyKey} (null: none) and the digest of the request that
     * carried it: a later call with the same key finds that schedule ({@link CreateResult.Duplicate}) or, with
     * another digest, a {@link CreateResult.Conflict}; nothing is written then.
     */
    CreateResult create(Schedule schedule, String idempotencyKey, byte[] requestHash);

    /** The tenant's schedule {@code id}. */
    Optional<Schedule> find(String tenant, String id);

    /** The tenant's schedule named {@code name}. */
    Optional<Schedule> findByName(String tenant, String name);

    /** The tenant's schedules in id order, after {@code afterId} (null: from the first), at most {@code limit}. */
    List<Schedule> list(String tenant, String afterId, int limit);

    /**
     * Replaces {@code expected} by {@code next} if the stored version is still {@code expected.version()}, and
     * records {@code runs} (a run recorded again for the same nominal time takes the new job). False if another
     * change won. {@code skippedRuns} is not written: only {@link #countSkipped} changes it.
     */
    boolean replace(Schedule expected, Schedule next, List<ScheduleRun> runs);

    /** Deletes the tenant's schedule and its run records (the runs' jobs stay); false if there was none. */
    boolean delete(String tenant, String id);

    /** Schedules, of any tenant, whose next look is due at or before {@code through}; earliest first. */
    List<Schedule> dueForMaterializing(Instant through, int limit);

    /** The schedule's runs with a nominal time after {@code after}, in nominal order. */
    List<ScheduleRun> runsAfter(String scheduleId, Instant after);

    /**
     * Adds one to the schedule's {@code skippedRuns}, outside the compare-and-set of {@link #replace} (which leaves
     * the count alone), so a skip never makes a materializer's write fail.
     */
    void countSkipped(String scheduleId);

    /** Forgets the schedule's runs at {@code nominal} (their jobs were cancelled: they will not run). */
    void forgetRuns(String scheduleId, List<Instant> nominal);

    /** The schedule's latest run nominally before {@code nominal}, if any. */
    Optional<ScheduleRun> runBefore(String scheduleId, Instant nominal);
}
