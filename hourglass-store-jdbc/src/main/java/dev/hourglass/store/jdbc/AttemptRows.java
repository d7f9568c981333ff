package dev.hourglass.store.jdbc;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.store.AttemptRecord;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Rows of {@code job_attempts}, the delivery history, as both stores read them: the columns {@code attempt, node,
 * started_at, finished_at, outcome, status, target, detail, duration_us}, in that order, from column 1.
 */
public final class AttemptRows {
    private AttemptRows() {}

    /** A duration in whole microseconds (saturating: a history row never makes a write fail). */
    public static long micros(Duration duration) {
        try {
            return Math.max(0, duration.toNanos() / 1_000);
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** A row of a history query, with what the query reads beyond the attempt's columns. */
    @FunctionalInterface
    public interface RowReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /** Runs the bound query {@code select} and reads each of its rows with {@code reader}. */
    public static <T> List<T> query(PreparedStatement select, RowReader<T> reader) throws SQLException {
        List<T> rows = new ArrayList<>();
        try (ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
                rows.add(reader.read(rs));
            }
        }
        return rows;
    }

    /** {@code rows} followed by {@code last} (the job's successful last attempt, from its row; empty if none). */
    public static List<AttemptRecord> withLast(List<AttemptRecord> rows, List<AttemptRecord> last) {
        if (last.isEmpty()) {
            return rows;
        }
        List<AttemptRecord> all = new ArrayList<>(rows);
        all.addAll(last);
        return all;
    }

    /** The history row the result set is on. */
    public static AttemptRecord read(ResultSet rs) throws SQLException {
        int status = rs.getInt(6);
        boolean noStatus = rs.wasNull();
        return new AttemptRecord(
                rs.getInt(1),
                rs.getString(2),
                Instant.ofEpochMilli(rs.getLong(3)),
                Instant.ofEpochMilli(rs.getLong(4)),
                DeliveryAttempt.Result.ofLabel(rs.getString(5)),
                noStatus ? 0 : status,
                rs.getString(7),
                rs.getString(8),
                Duration.ofNanos(rs.getLong(9) * 1_000));
    }
}
