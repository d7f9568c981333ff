package dev.hourglass.store.postgres;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.store.jdbc.JobColumns;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Maps rows of the {@code jobs} table to {@link Job}s: the id column here, the others in {@link JobColumns}. The id
 * is a {@code uuid}: {@link JobId#hi()} and {@link JobId#lo()} are its most and least significant 64 bits, and
 * PostgreSQL's uuid order (bytewise, unsigned) is {@link JobId}'s order.
 */
final class JobRows {
    /** The columns every job read selects or returns, in the order {@link #read} expects. */
    static final String COLUMNS = "id, " + JobColumns.AFTER_ID_LIST;

    /** {@link #COLUMNS} with the payload left out (read as empty). */
    static final String COLUMNS_WITHOUT_PAYLOAD = "id, " + JobColumns.AFTER_ID_LIST_WITHOUT_PAYLOAD;

    private JobRows() {}

    /** {@link #COLUMNS}, each qualified by {@code alias} (for RETURNING of an UPDATE ... FROM, where names clash). */
    static String columnsOf(String alias) {
        StringBuilder columns = new StringBuilder(alias).append(".id");
        for (String name : JobColumns.AFTER_ID) {
            columns.append(", ").append(alias).append('.').append(name);
        }
        return columns.toString();
    }

    static Job read(ResultSet rs) throws SQLException {
        return JobColumns.read(rs, jobId(rs.getObject(1, UUID.class)), 2);
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
}
