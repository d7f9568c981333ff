package dev.hourglass.core.store;

import dev.hourglass.core.monitor.AlarmLevel;
import java.time.Instant;
import java.util.Objects;

/**
 * What the nodes share of one watched target (a tenant's webhook origin, or an in-process handler): its alarm level
 * and since when, and whether it is paused. Written only by compare-and-set on {@link #version} ({@link
 * StoreTx#putTargetStates}), so of several nodes that see the same change one writes it, and only that one tells
 * anybody.
 *
 * @param paused null when deliveries flow; else who paused it
 * @param pausedAt when it was paused, null when it is not
 * @param pausedBy who paused it by hand (an API key's tenant, {@code admin}), or the node that paused it
 * @param version 1 for the first write, then one more for each
 */
public record TargetState(String tenant, String target, AlarmLevel level, Instant since, Pause paused,
        Instant pausedAt, String pausedBy, long version, Instant updatedAt) {

    /** Why a target is paused. */
    public enum Pause {
        /** It was alarming longer than its tenant allows: held until a probe succeeds. */
        AUTO,
        /** An operator paused it: held until an operator resumes it. */
        MANUAL
    }

    public TargetState {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(updatedAt, "updatedAt");
        if (version < 1) {
            throw new IllegalArgumentException("version must be >= 1");
        }
        if ((paused == null) != (pausedAt == null)) {
            throw new IllegalArgumentException("pausedAt is set exactly when paused is");
        }
    }

    /** This state changed as {@code next} says, one version on, at {@code now}. */
    public TargetState then(AlarmLevel nextLevel, Instant nextSince, Pause nextPause, Instant nextPausedAt,
            String nextPausedBy, Instant now) {
        return new TargetState(tenant, target, nextLevel, nextSince, nextPause, nextPausedAt, nextPausedBy,
                version + 1, now);
    }

    public boolean isPaused() {
        return paused != null;
    }
}
