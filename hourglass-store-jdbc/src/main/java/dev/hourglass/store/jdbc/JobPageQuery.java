package dev.hourglass.store.jdbc;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * The page query of {@link dev.hourglass.core.store.JobStore#list}, the same on every SQL store but for the id:
 * the jobs after the cursor, of the query's tenant and state, in id order, one more than the page holds (to tell
 * whether there is a next page). Each store names its id column and binds the cursor; the rest is here.
 */
public final class JobPageQuery {

    private JobPageQuery() {}

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

    /** The page of {@code rows} (up to {@code limit} + 1, in id order), with the next cursor if there are more. */
    public static JobPage page(List<Job> rows, int limit) {
        if (rows.size() > limit) {
            List<Job> jobs = rows.subList(0, limit);
            return new JobPage(jobs, jobs.getLast().id());
        }
        return new JobPage(rows, null);
    }
}
