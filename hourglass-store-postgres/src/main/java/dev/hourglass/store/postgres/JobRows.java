package dev.hourglass.store.postgres;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Maps rows of the {@code jobs} table to {@link Job}s. Times are epoch milliseconds ({@code bigint}), so anything
 * finer is truncated; durations likewise. The id is a {@code uuid}: {@link JobId#hi()} and {@link JobId#lo()} are
 * its most and least significant 64 bits, and PostgreSQL's uuid order (bytewise, unsigned) is {@link JobId}'s order.
 */
final class JobRows {
    private static final List<String> NAMES = List.of("id", "tenant", "handler", "target", "payload", "state",
            "due_at", "created_at", "updated_at", "attempts", "max_attempts", "backoff_initial_ms", "backoff_max_ms",
            "timeout_ms", "idem_key", "request_hash", "last_error", "owner", "token");

    /** The columns every job read selects or returns, in the order {@link #read} expects. */
    static final String COLUMNS = String.join(", ", NAMES);

    private JobRows() {}

    /** {@link #COLUMNS}, each qualified by {@code alias} (for RETURNING of an UPDATE ... FROM, where names clash). */
    static String columnsOf(String alias) {
        return NAMES.stream().map(name -> alias + "." + name).collect(Collectors.joining(", "));
    }

    static Job read(ResultSet rs) throws SQLException {
        JobId id = jobId(rs.getObject(1, UUID.class));
        String tenant = rs.getString(2);
        String handler = rs.getString(3);
        String target = rs.getString(4);
        byte[] payload = rs.getBytes(5);
        JobState state = JobState.valueOf(rs.getString(6));
        Instant dueAt = Instant.ofEpochMilli(rs.getLong(7));
        Instant createdAt = Instant.ofEpochMilli(rs.getLong(8));
        Instant updatedAt = Instant.ofEpochMilli(rs.getLong(9));
        int attempts = rs.getInt(10);
        int maxAttempts = rs.getInt(11);
        Backoff backoff = new Backoff(Duration.ofMillis(rs.getLong(12)), Duration.ofMillis(rs.getLong(13)));
        long timeoutMs = rs.getLong(14);
        Duration timeout = rs.wasNull() ? null : Duration.ofMillis(timeoutMs);
        String idempotencyKey = rs.getString(15);
        byte[] requestHash = rs.getBytes(16);
        String lastError = rs.getString(17);
        String owner = rs.getString(18);
        long token = rs.getLong(19);
        return new Job(id, tenant, handler, target, payload, state, dueAt, createdAt, updatedAt, attempts,
                maxAttempts, backoff, timeout, idempotencyKey, requestHash, lastError, owner, token);
    }

    static List<Job> readAll(ResultSet rs) throws SQLException {
        List<Job> jobs = new ArrayList<>();
        while (rs.next()) {
            jobs.add(read(rs));
        }
        return jobs;
    }

    /** Runs a query and reads every job it returns. */
    static List<Job> query(PreparedStatement statement) throws SQLException {
        try (ResultSet rs = statement.executeQuery()) {
            return readAll(rs);
        }
    }

    static UUID uuid(JobId id) {
        return new UUID(id.hi(), id.lo());
    }

    static JobId jobId(UUID uuid) {
        return new JobId(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
    }

    static long millis(Instant instant) {
        return instant.toEpochMilli();
    }

    static Long millisOrNull(Instant instant) {
        return instant == null ? null : instant.toEpochMilli();
    }

    static Long millisOrNull(Duration duration) {
        return duration == null ? null : duration.toMillis();
    }
}
