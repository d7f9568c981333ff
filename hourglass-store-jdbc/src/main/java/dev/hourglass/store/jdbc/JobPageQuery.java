package dev.hourglass.store.jdbc;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.store.jdbc.JobColumns.SizedRow;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The page query of {@link dev.hourglass.core.store.JobStore#list}, the same on every SQL store but for the id:
 * the jobs after the cursor, of the query's tenant and state, in id order, one more than the page holds (to tell
 * whether there is a next page). Each store names its id column and binds the cursor; the rest is here.
 *
 * <p>A page is read in two steps, so that its cost is bounded by the query's byte budget before any payload is
 * read: first the rows without their payloads, each with its payload's length ({@link JobColumns#sizedList}); then
 * the page is cut where the budget ends ({@link #cut}); then, only if the query wants payloads, the payloads of the
 * rows kept, by id. A page without payloads never selects the payload column.
 */
public final class JobPageQuery {

    private JobPageQuery() {}

    /** Reads the stored payloads of jobs by id; ids it does not return are no longer stored. */
    @FunctionalInterface
    public interface PayloadReader {
        Map<JobId, byte[]> read(List<JobId> ids) throws SQLException;
    }

    /**
     * {@code SELECT columns FROM jobs WHERE ... ORDER BY idColumn LIMIT ?}, with {@code idColumn > ?} first when the
     * query has a cursor, then {@code tenant = ?} and {@code state = ?} when it filters by them.
     */
    public static String sql(String columns, String idColumn, JobQuery query) {
        StringBuilder sql = new StringBuilder("SELECT ").append(columns).append(" FROM jobs");
        String glue = " WHERE ";
        if (query.after() != null) {
            sql.append(glue).append(idColumn).append(" > ?");
            glue = " AND ";
        }
        if (query.tenant() != null) {
            sql.append(glue).append("tenant = ?");
            glue = " AND ";
        }
        if (query.state() != null) {
            sql.append(glue).append("state = ?");
        }
        return sql.append(" ORDER BY ").append(idColumn).append(" LIMIT ?").toString();
    }

    /**
     * Binds the tenant and state filters the query sets and the limit, from parameter {@code index} on (the store
     * binds its cursor, if any, before them).
     */
    public static void bindFilters(PreparedStatement statement, int index, JobQuery query) throws SQLException {
        if (query.tenant() != null) {
            statement.setString(index++, query.tenant());
        }
        if (query.state() != null) {
            statement.setString(index++, query.state().name());
        }
        statement.setInt(index, query.limit() + 1);
    }

    /**
     * The page of {@code rows} (up to {@code limit} + 1 in id order, read without payloads): {@link #cut} by the
     * query, then, if it wants payloads, each kept job with its payload from {@code payloads}. A job whose payload
     * is gone was deleted between the two reads and is left out (the cursor stays valid: it only orders).
     */
    public static JobPage page(List<SizedRow> rows, JobQuery query, PayloadReader payloads) throws SQLException {
        JobPage cut = cut(rows, query);
        if (!query.payloads() || cut.jobs().isEmpty()) {
            return cut;
        }
        Map<JobId, byte[]> stored = payloads.read(cut.jobs().stream().map(Job::id).toList());
        List<Job> jobs = new ArrayList<>(cut.jobs().size());
        for (Job job : cut.jobs()) {
            byte[] payload = stored.get(job.id());
            if (payload != null) {
                jobs.add(withPayload(job, payload));
            }
        }
        return new JobPage(jobs, cut.next());
    }

    /**
     * The first rows, in order, while they fit the query's limit and byte budget ({@link JobQuery#cost}); the first
     * row is always taken. The cursor is the last row taken when any row was left out, else null.
     */
    public static JobPage cut(List<SizedRow> rows, JobQuery query) {
        List<Job> jobs = new ArrayList<>(Math.min(rows.size(), query.limit()));
        long spent = 0;
        for (SizedRow row : rows) {
            if (jobs.size() == query.limit()) {
                break;
            }
            long cost = query.cost(row.job(), row.payloadBytes());
            if (!jobs.isEmpty() && cost > query.maxBytes() - spent) {
                break;
            }
            spent += cost;
            jobs.add(row.job());
        }
        return new JobPage(jobs, jobs.size() < rows.size() ? jobs.getLast().id() : null);
    }

    private static Job withPayload(Job job, byte[] payload) {
        return new Job(job.id(), job.tenant(), job.handler(), job.target(), payload, job.state(), job.dueAt(),
                job.createdAt(), job.updatedAt(), job.attempts(), job.maxAttempts(), job.backoff(), job.timeout(),
                job.idempotencyKey(), job.requestHash(), job.lastError(), job.owner(), job.fencingToken());
    }
}
