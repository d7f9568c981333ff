package dev.hourglass.core.model;

/**
 * Every named state change the engine performs. Stores build their compare-and-set guards from {@link #from()},
 * so the expected state of a write is never spelled twice. Constructing a constant that the {@link JobState}
 * table forbids fails at class initialisation, which the state-machine test exercises.
 */
public enum Transition {
    START(JobState.SCHEDULED, JobState.RUNNING),
    CANCEL(JobState.SCHEDULED, JobState.CANCELLED),
    SUCCEED(JobState.RUNNING, JobState.SUCCEEDED),
    RETRY(JobState.RUNNING, JobState.SCHEDULED),
    RESCUE(JobState.RUNNING, JobState.SCHEDULED),
    FAIL(JobState.RUNNING, JobState.FAILED),
    CANCEL_RUNNING(JobState.RUNNING, JobState.CANCELLED),
    RETRY_BY_HAND(JobState.FAILED, JobState.SCHEDULED);

    private final JobState from;
    private final JobState to;

    Transition(JobState from, JobState to) {
        if (!from.canMoveTo(to)) {
            throw new IllegalStateException("transition " + from + " -> " + to + " is not in the JobState table");
        }
        this.from = from;
        this.to = to;
    }

    public JobState from() {
        return from;
    }

    public JobState to() {
        return to;
    }

    /** The transition that finishes a running attempt in the given state. */
    public static Transition finishingIn(JobState to) {
        return switch (to) {
            case SUCCEEDED -> SUCCEED;
            case SCHEDULED -> RETRY;
            case FAILED -> FAIL;
            case CANCELLED -> CANCEL_RUNNING;
            case RUNNING -> throw new IllegalArgumentException("a run cannot finish in RUNNING");
        };
    }
}
