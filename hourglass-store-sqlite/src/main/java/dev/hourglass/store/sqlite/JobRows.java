package dev.hourglass.store.sqlite;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.store.jdbc.JobColumns;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps rows of the {@code jobs} table to {@link Job}s: the id columns here, the others in {@link JobColumns}. The id
 * is split: {@code seq} = {@link JobId#hi()} (the rowid, time-ordered and positive for every UUIDv7 until the year
 * 6429, so SQLite's signed order is the id order), {@code id_lo} = {@link JobId#lo()}.
 */
final class JobRows {
    /** The columns every job read selects or returns, in the order {@link #read} expects. */
    static final String COLUMNS = "seq, id_lo, " + JobColumns.AFTER_ID_LIST;

    /** {@link #COLUMNS} with the payload left out (read as empty). */
    static final String COLUMNS_WITHOUT_PAYLOAD = "seq, id_lo, " + JobColumns.AFTER_ID_LIST_WITHOUT_PAYLOAD;

    private JobRows() {}

    static Job read(ResultSet rs) throws SQLException {
        return JobColumns.read(rs, new JobId(rs.getLong(1), rs.getLong(2)), 3);
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
}
