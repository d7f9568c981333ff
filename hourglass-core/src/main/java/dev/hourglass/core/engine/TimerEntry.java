package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import java.util.Objects;

/**
 * A claimed job waiting in memory for its due time. Only what firing needs: the rest of the job stays in the store
 * and comes back with the start write. The timer is a cache: firing an entry still has to win the start
 * compare-and-set on (owner, fencing token) in the store.
 *
 * @param tenant the job's tenant: once due, the entry waits in its tenant's queue ({@link FairDispatchQueue})
 * @param target the name of the job's target ({@link TargetNames}), by which a paused target's jobs are held; null
 *     when targets are not watched, or for a claim read back without its target (never held)
 */
record TimerEntry(JobId id, String tenant, long dueMillis, long fencingToken, String target) {

    TimerEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
    }

    /** An entry with no target name. */
    TimerEntry(JobId id, String tenant, long dueMillis, long fencingToken) {
        this(id, tenant, dueMillis, fencingToken, null);
    }

    /** The entry that fires {@code job} at {@code dueMillis} under the job's current claim. */
    static TimerEntry of(Job job, long dueMillis, TargetNames targets) {
        return new TimerEntry(job.id(), job.tenant(), dueMillis, job.fencingToken(), targets.of(job));
    }

    /** The entry that fires {@code job} at its stored due time under its current claim. */
    static TimerEntry of(Job job, TargetNames targets) {
        return of(job, job.dueAt().toEpochMilli(), targets);
    }
}
