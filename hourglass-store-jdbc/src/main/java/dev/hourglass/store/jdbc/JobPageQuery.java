package dev.hourglass.store.jdbc;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The page query of {@link dev.hourglass.core.store.JobStore#list}, the same on every SQL store but for the id.
 *
 * <p>A page is read in two steps, so that what it costs is bounded by the query's byte budget before any large
 * value is read (a JDBC driver may hold a whole result in memory):
 * <ol>
 *   <li>{@link #sizesSql}: the ids of the jobs after the cursor that pass the query's filters (tenant, state,
 *       dead letters), in id order, one more than the page holds (to tell whether there is a next page), each with
 *       the lengths of its variable-length values ({@link RowSize}) and none of the values;
 *   <li>{@link #cut}: the first of them that fit the limit and the budget;
 *   <li>the store reads those rows by id, with the same filters, and with their payloads only if
 *       the query wants them ({@link #page}). A page without payloads never selects the payload column.
 * </ol>
 */
public final class JobPageQuery {

    private JobPageQuery() {}

    /** A row's id and the sizes of its variable-length values, as {@link JobQuery#cost} counts them. */
    public record RowSize(JobId id, long textChars, long payloadBytes) {}

    /** Reads the rows of {@code ids} (in any order) that still match the query's filters. */
    @FunctionalInterface
    public interface RowReader {
        List<Job> read(List<JobId> ids) throws SQLException;
    }

    /**
     * The first step: {@code SELECT idColumns, <lengths> FROM jobs WHERE ... ORDER BY idColumn LIMIT ?}, with
     * {@code idColumn > ?} first when the query has a cursor, then {@code tenant = ?} and {@code state = ?} when it
     * filters by them (bind with {@link #bindFilters}); read each row with {@link #readSize}.
     *
     * @param blobLength the store's function for the length in bytes of a blob
     */
    public static String sizesSql(String idColumns, String idColumn, String blobLength, JobQuery query) {
        String columns = idColumns + ", length(target), length(idem_key), length(last_error), " + blobLength
                + "(payload)";
        StringBuilder sql = new StringBuilder("SELECT ").append(columns).append(" FROM jobs");
        String glue = " WHERE ";
        if (query.after() != null) {
            sql.append(glue).append(idColumn).append(" > ?");
            glue = " AND ";
        }
        sql.append(filters(query, glue));
        return sql.append(" ORDER BY ").append(idColumn).append(" LIMIT ?").toString();
    }

    /**
     * {@code glue tenant = ?}, {@code AND state = ?}, then the dead-letter filters ({@code last_target = ?},
     * {@code last_outcome = ?}, {@code finished_at >= ?}), as far as the query filters by them (bind with
     * {@link #bindFilters}, which binds the limit after them in {@link #sizesSql} only). The dead-letter filters
     * narrow the rows the tenant and state filters reach (no index of their own: a FAILED tenant's dead letters are
     * few beside its other jobs, and a page stops at its limit).
     */
    public static String filters(JobQuery query, String glue) {
        StringBuilder sql = new StringBuilder();
        for (String condition : conditions(query)) {
            sql.append(glue).append(condition);
            glue = " AND ";
        }
        return sql.toString();
    }

    private static List<String> conditions(JobQuery query) {
        List<String> conditions = new ArrayList<>(5);
        if (query.tenant() != null) {
            conditions.add("tenant = ?");
        }
        if (query.state() != null) {
            conditions.add("state = ?");
        }
        if (query.target() != null) {
            conditions.add("last_target = ?");
        }
        if (query.outcome() != null) {
            conditions.add("last_outcome = ?");
        }
        if (query.finishedSince() != null) {
            conditions.add("finished_at >= ?");
        }
        return conditions;
    }

    /**
     * Binds the filters the query sets, in the order {@link #filters} names them, from parameter {@code index} on
     * (the store binds its cursor, if any, before them), and returns the next index. The outcome is bound as its
     * label ({@code http_error}, as the schema's CHECK names it), the instant as epoch milliseconds.
     */
    public static int bindFilters(PreparedStatement statement, int index, JobQuery query) throws SQLException {
        if (query.tenant() != null) {
            statement.setString(index++, query.tenant());
        }
        if (query.state() != null) {
            statement.setString(index++, query.state().name());
        }
        if (query.target() != null) {
            statement.setString(index++, query.target());
        }
        if (query.outcome() != null) {
            statement.setString(index++, query.outcome().label());
        }
        if (query.finishedSince() != null) {
            statement.setLong(index++, sinceMillis(query.finishedSince()));
        }
        return index;
    }

    /**
     * An instant as a lower bound on epoch milliseconds: one the store cannot represent is below or above every kept
     * time, so the filter keeps everything or nothing rather than failing the read.
     */
    private static long sinceMillis(Instant since) {
        try {
            return EpochMillis.millis(since);
        } catch (ArithmeticException e) {
            return since.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /** Binds the first step's limit: one more row than the page holds. */
    public static void bindLimit(PreparedStatement statement, int index, JobQuery query) throws SQLException {
        statement.setInt(index, query.limit() + 1);
    }

    /** The sizes of the current row of a {@link #sizesSql} result, whose length columns start at {@code first}. */
    public static RowSize readSize(ResultSet rs, JobId id, int first) throws SQLException {
        long textChars = rs.getLong(first) + rs.getLong(first + 1) + rs.getLong(first + 2);
        return new RowSize(id, textChars, rs.getLong(first + 3));
    }

    /**
     * The page: the rows {@link #cut} keeps, read by {@code rows}, in id order. A row that {@code rows} no longer
     * returns was deleted, or left the query's state, between the two steps and is left out (the cursor stays
     * valid: it only orders).
     */
    public static JobPage page(List<RowSize> sizes, JobQuery query, RowReader rows) throws SQLException {
        Cut cut = cut(sizes, query);
        if (cut.ids().isEmpty()) {
            return new JobPage(List.of(), null);
        }
        Map<JobId, Job> read = new HashMap<>();
        for (Job job : rows.read(cut.ids())) {
            read.put(job.id(), job);
        }
        List<Job> jobs = new ArrayList<>(cut.ids().size());
        for (JobId id : cut.ids()) {
            Job job = read.get(id);
            if (job != null) {
                jobs.add(job);
            }
        }
        return new JobPage(jobs, cut.next());
    }

    /** The ids of a page, and its cursor (null on the last page). */
    public record Cut(List<JobId> ids, JobId next) {}

    /**
     * The first rows, in order, while they fit the query's limit and byte budget ({@link JobQuery#cost}); the first
     * row is always taken. The cursor is the last row taken when any row was left out, else null.
     */
    public static Cut cut(List<RowSize> rows, JobQuery query) {
        List<JobId> ids = new ArrayList<>(Math.min(rows.size(), query.limit()));
        long spent = 0;
        for (RowSize row : rows) {
            if (ids.size() == query.limit()) {
                break;
            }
            long cost = query.cost(row.textChars(), row.payloadBytes());
            if (!ids.isEmpty() && cost > query.maxBytes() - spent) {
                break;
            }
            spent += cost;
            ids.add(row.id());
        }
        return new Cut(ids, ids.size() < rows.size() ? ids.getLast() : null);
    }
}
