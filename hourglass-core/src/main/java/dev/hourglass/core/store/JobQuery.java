package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;

/**
 * A page of jobs in id (creation) order.
 *
 * @param tenant only this tenant's jobs, or null for all
 * @param state only jobs in this state, or null for all
 * @param after the cursor: only jobs with a greater id, or null to start at the beginning
 * @param limit page size, 1..1000
 */
public record JobQuery(String tenant, JobState state, JobId after, int limit) {
    public static final int MAX_LIMIT = 1000;

    public JobQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT);
        }
    }
}
