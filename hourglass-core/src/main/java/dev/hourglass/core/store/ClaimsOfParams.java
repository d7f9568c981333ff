package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import java.util.Objects;

/**
 * One page of {@link JobStore#claimsOf}: the SCHEDULED jobs claimed by {@code owner}, in id order, after
 * {@code after} (null: from the first), at most {@code limit}.
 */
public record ClaimsOfParams(String owner, JobId after, int limit) {
    public ClaimsOfParams {
        Objects.requireNonNull(owner, "owner");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
    }

    /** The page after this one, which ended at {@code last}. */
    public ClaimsOfParams next(JobId last) {
        return new ClaimsOfParams(owner, last, limit);
    }
}
