package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * What {@link StoreTx#pruneFinished} deletes: up to {@code limit} terminal jobs finished before
 * {@code finishedBefore}.
 */
public record PruneParams(Instant finishedBefore, int limit) {
    public PruneParams {
        Objects.requireNonNull(finishedBefore, "finishedBefore");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
    }
}
