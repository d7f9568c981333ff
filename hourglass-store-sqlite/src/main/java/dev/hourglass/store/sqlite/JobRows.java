package dev.hourglass.store.sqlite;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps rows of the {@code jobs} table to {@link Job}s. Times are stored as epoch milliseconds, so anything finer is
 * truncated; durations likewise. The id is split: {@code seq} = {@link JobId#hi()} (the rowid, time-ordered and
 * positive for every UUIDv7 until the year 6429, so SQLite's signed order is the id order), {@code id_lo} =
 * {@link JobId#lo()}.
 */
final class JobRows {
    /** The columns every job read selects or returns, in the order {@link #read} expects. */
    static final String COLUMNS = "seq, id_lo, tenant, handler, target, payload, state, due_at, created_at, "
            + "updated_at, attempts, max_attempts, backoff_initial_ms, backoff_max_ms, timeout_ms, idem_key, "
            + "request_hash, last_error, owner, token";

    private JobRows() {}

    static Job read(ResultSet rs) throws SQLException {
        JobId id = new JobId(rs.getLong(1), rs.getLong(2));
        String tenant = rs.getString(3);
        String handler = rs.getString(4);
        String target = rs.getString(5);
        byte[] payload = rs.getBytes(6);
        JobState state = JobState.valueOf(rs.getString(7));
        Instant dueAt = Instant.ofEpochMilli(rs.getLong(8));
        Instant createdAt = Instant.ofEpochMilli(rs.getLong(9));
        Instant updatedAt = Instant.ofEpochMilli(rs.getLong(10));
        int attempts = rs.getInt(11);
        int maxAttempts = rs.getInt(12);
        Backoff backoff = new Backoff(Duration.ofMillis(rs.getLong(13)), Duration.ofMillis(rs.getLong(14)));
        long timeoutMs = rs.getLong(15);
        Duration timeout = rs.wasNull() ? null : Duration.ofMillis(timeoutMs);
        String idempotencyKey = rs.getString(16);
        byte[] requestHash = rs.getBytes(17);
        String lastError = rs.getString(18);
        String owner = rs.getString(19);
        long token = rs.getLong(20);
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

    /** Reads at most one job from a query by id. */
    static Job readOne(PreparedStatement statement) throws SQLException {
        try (ResultSet rs = statement.executeQuery()) {
            return rs.next() ? read(rs) : null;
        }
    }

    static long millis(Instant instant) {
        return instant.toEpochMilli();
    }

    static void setMillisOrNull(PreparedStatement statement, int index, Instant instant) throws SQLException {
        if (instant == null) {
            statement.setNull(index, Types.INTEGER);
        } else {
            statement.setLong(index, instant.toEpochMilli());
        }
    }

    static void setMillisOrNull(PreparedStatement statement, int index, Duration duration) throws SQLException {
        if (duration == null) {
            statement.setNull(index, Types.INTEGER);
        } else {
            statement.setLong(index, duration.toMillis());
        }
    }
}
