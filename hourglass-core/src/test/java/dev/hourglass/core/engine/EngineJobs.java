package dev.hourglass.core.engine;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import java.time.Instant;
import java.time.InstantSource;

/**
 * Jobs for the engine's unit tests, which run on stand-in stores. (Store tests build theirs with the store
 * test-kit's {@code TestJobs}, which depends on this module and so cannot serve its tests.)
 */
final class EngineJobs {
    /** The fixed wall time the tests start at. */
    static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    private static final JobIdGenerator IDS = new JobIdGenerator(InstantSource.fixed(T0));

    private EngineJobs() {}

    static JobId nextId() {
        return IDS.next();
    }

    /** An unowned job due at {@link #T0}. */
    static NewJob newJob() {
        return new NewJob(nextId(), "t1", "webhook", null, new byte[0], T0, T0, 3, Backoff.DEFAULT, null, null, null,
                null, null);
    }

    /**
     * Job {@code id} due at {@code dueAt} as a store would hold it in {@code state}, claimed by {@code owner} (null:
     * unowned) under {@code fencingToken}, with one attempt counted unless SCHEDULED.
     */
    static Job stored(JobId id, Instant dueAt, JobState state, String owner, long fencingToken) {
        return new Job(id, "t1", "webhook", null, new byte[0], state, dueAt, dueAt, dueAt,
                state == JobState.SCHEDULED ? 0 : 1, 3, Backoff.DEFAULT, null, null, null, null, owner, fencingToken,
                null);
    }
}
