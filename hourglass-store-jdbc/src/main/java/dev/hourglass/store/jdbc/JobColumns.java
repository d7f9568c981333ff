package dev.hourglass.store.jdbc;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.TraceParent;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The columns of the {@code jobs} table that follow the id, the same on every SQL store, and the mapping of a row's
 * values to a {@link Job}. Each store keeps its own id columns (SQLite {@code seq, id_lo}; PostgreSQL {@code uuid}),
 * selects them first and then {@link #AFTER_ID}, reads the id and hands it to {@link #read}. Times and durations
 * are {@link EpochMillis}.
 *
 * <p>Every claim and start reads its rows through {@link #read}: it is straight-line column reads by index, with no
 * allocation beyond the values of the {@link Job} itself.
 */
public final class JobColumns {

    /** The names, in the order {@link #read} reads them. */
    public static final List<String> AFTER_ID = List.of("tenant", "handler", "target", "payload", "state", "due_at",
            "created_at", "updated_at", "attempts", "max_attempts", "backoff_initial_ms", "backoff_max_ms",
            "timeout_ms", "idem_key", "request_hash", "last_error", "owner", "token", "trace_parent");

    /** {@link #AFTER_ID} as a select list. */
    public static final String AFTER_ID_LIST = String.join(", ", AFTER_ID);

    /**
     * {@link #AFTER_ID_LIST} with {@code NULL} in place of the payload: the same columns for {@link #read}, which
     * gives the job an empty payload, without reading the payload.
     */
    public static final String AFTER_ID_LIST_WITHOUT_PAYLOAD = AFTER_ID.stream()
            .map(name -> name.equals("payload") ? "NULL" : name)
            .collect(Collectors.joining(", "));

    private JobColumns() {}

    /**
     * The job on the current row of {@code rs}, whose {@link #AFTER_ID} columns start at column {@code first}.
     *
     * @param id the job's id, which the store read from its own id columns
     */
    public static Job read(ResultSet rs, JobId id, int first) throws SQLException {
        String tenant = rs.getString(first);
        String handler = rs.getString(first + 1);
        String target = rs.getString(first + 2);
        byte[] payload = rs.getBytes(first + 3);
        JobState state = JobState.valueOf(rs.getString(first + 4));
        Instant dueAt = Instant.ofEpochMilli(rs.getLong(first + 5));
        Instant createdAt = Instant.ofEpochMilli(rs.getLong(first + 6));
        Instant updatedAt = Instant.ofEpochMilli(rs.getLong(first + 7));
        int attempts = rs.getInt(first + 8);
        int maxAttempts = rs.getInt(first + 9);
        Backoff backoff = new Backoff(Duration.ofMillis(rs.getLong(first + 10)),
                Duration.ofMillis(rs.getLong(first + 11)));
        long timeoutMs = rs.getLong(first + 12);
        Duration timeout = rs.wasNull() ? null : Duration.ofMillis(timeoutMs);
        String idempotencyKey = rs.getString(first + 13);
        byte[] requestHash = rs.getBytes(first + 14);
        String lastError = rs.getString(first + 15);
        String owner = rs.getString(first + 16);
        long token = rs.getLong(first + 17);
        // Validated again on the way out: a value written by hand that is not a traceparent reads as none.
        TraceParent traceParent = TraceParent.parse(rs.getString(first + 18)).orElse(null);
        return new Job(id, tenant, handler, target, payload, state, dueAt, createdAt, updatedAt, attempts,
                maxAttempts, backoff, timeout, idempotencyKey, requestHash, lastError, owner, token, traceParent);
    }
}
