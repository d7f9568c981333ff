package dev.hourglass.core.store;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import java.time.Instant;

/**
 * A page of jobs in id (creation) order, bounded by a row count and by a byte budget.
 *
 * <p>The budget bounds what one page can cost in memory, whatever the rows hold: a page takes rows in id order
 * while the sum of their {@link #cost costs} stays within {@code maxBytes}, and ends early (with a cursor) at the
 * first row that would go over. The first row is always taken, so every page but the last makes progress and a
 * page costs at most {@code maxBytes} plus one row. Without {@code payloads}, a store reads no payload at all (it
 * does not select the column), and the jobs of the page carry empty payloads.
 *
 * @param tenant only this tenant's jobs, or null for all
 * @param state only jobs in this state, or null for all
 * @param after the cursor: only jobs with a greater id, or null to start at the beginning
 * @param limit page size, 1..1000
 * @param payloads whether the page carries the jobs' payloads (read and counted against the budget)
 * @param maxBytes the byte budget of the page, at least 1 ({@link #UNBOUNDED}: no budget)
 * @param target only jobs whose last recorded attempt went to exactly this target, or null for all (see
 *     {@link DeadLetterFilter})
 * @param outcome only jobs whose last recorded attempt ended so, or null for all
 * @param finishedSince only jobs that finished at or after this instant, or null for all
 */
public record JobQuery(String tenant, JobState state, JobId after, int limit, boolean payloads, long maxBytes,
        String target, DeliveryAttempt.Result outcome, Instant finishedSince) {
    public static final int MAX_LIMIT = 1000;
    /** No byte budget: the page ends at {@code limit} rows only. */
    public static final long UNBOUNDED = Long.MAX_VALUE;
    /**
     * What a row costs beyond its variable-length fields: a generous allowance for its fixed fields (id, state,
     * times, counters) as a store holds them and as the API writes them.
     */
    public static final int ROW_OVERHEAD_BYTES = 256;

    public JobQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT);
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be at least 1");
        }
    }

    /** Without the dead-letter filters. */
    public JobQuery(String tenant, JobState state, JobId after, int limit, boolean payloads, long maxBytes) {
        this(tenant, state, after, limit, payloads, maxBytes, null, null, null);
    }

    /** Every row up to {@code limit}, with its payload, and no byte budget. */
    public JobQuery(String tenant, JobState state, JobId after, int limit) {
        this(tenant, state, after, limit, true, UNBOUNDED);
    }

    /** This query, filtered as well by {@code filter} (replacing the dead-letter filters it had). */
    public JobQuery filtered(DeadLetterFilter filter) {
        return new JobQuery(tenant, state, after, limit, payloads, maxBytes, filter.target(), filter.outcome(),
                filter.finishedSince());
    }

    /** This query after {@code cursor}: its next page. */
    public JobQuery withCursor(JobId cursor) {
        return new JobQuery(tenant, state, cursor, limit, payloads, maxBytes, target, outcome, finishedSince);
    }

    /** The dead-letter filters of this query. */
    public DeadLetterFilter deadLetters() {
        return new DeadLetterFilter(target, outcome, finishedSince);
    }

    /**
     * What one row costs against {@link #maxBytes}: {@link #ROW_OVERHEAD_BYTES}, its target, idempotency key and last
     * error (counted as two bytes a character, as a {@code String} holds them at most), and its payload's bytes when
     * the page carries payloads. Every store counts with these methods, so pages end at the same row on each.
     *
     * @param job the row (its payload is not looked at: the store may not have read it)
     * @param payloadBytes the length of the row's stored payload
     */
    public long cost(Job job, long payloadBytes) {
        return cost(length(job.target()) + length(job.idempotencyKey()) + length(job.lastError()), payloadBytes);
    }

    /**
     * {@link #cost(Job, long)} from the sizes alone.
     *
     * @param textChars the characters of the row's target, idempotency key and last error together
     */
    public long cost(long textChars, long payloadBytes) {
        long cost = ROW_OVERHEAD_BYTES + 2 * textChars;
        return payloads ? cost + payloadBytes : cost;
    }

    private static long length(String s) {
        return s == null ? 0 : s.length();
    }
}
