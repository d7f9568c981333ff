package dev.hourglass.store.jdbc;

import dev.hourglass.core.store.DueWindow;
import dev.hourglass.core.store.PendingCount;
import dev.hourglass.core.store.PendingCountParams;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link dev.hourglass.core.store.JobStore#countPending}, in SQL both stores speak: the SCHEDULED rows grouped by
 * tenant and {@link DueWindow}, each put in its window by a CASE on {@code due_at} (epoch milliseconds in both
 * schemas). The window edges are bound as parameters, so the statement texts never change.
 *
 * <p>A count bounded by a due time reads only what the engine's own indexes already hold apart, so its cost is the
 * near-term jobs, not the store: the free ones ({@code owner IS NULL}) are a range of {@code jobs_claimable} by due
 * time, and the held ones (claimed into a node's timer: within its horizon, or overdue) are the rows of
 * {@code jobs_owned}, which a node's timer capacity bounds. The two are summed here. An unbounded count reads every
 * SCHEDULED row; it is the rare one.
 */
public final class PendingCountQuery {
    private static final String WINDOWED = "SELECT tenant, CASE WHEN due_at <= ? THEN 0 WHEN due_at <= ? THEN 1 "
            + "WHEN due_at <= ? THEN 2 WHEN due_at <= ? THEN 3 ELSE 4 END AS due_window, count(*), min(due_at) ";
    private static final String GROUPED = " GROUP BY tenant, due_window";
    /** The free jobs due until the bound: a range of jobs_claimable. */
    public static final String FREE_DUE_UNTIL = WINDOWED + "FROM jobs WHERE state = 'SCHEDULED' AND owner IS NULL "
            + "AND due_at <= ?" + GROUPED;
    /** Every SCHEDULED job: a pass over the table. */
    public static final String ALL = WINDOWED + "FROM jobs WHERE state = 'SCHEDULED'" + GROUPED;

    private PendingCountQuery() {}

    /**
     * The held jobs due until the bound: the entries of jobs_owned. SQLite's planner, without statistics, would
     * rather walk a tenant index over the whole table, so it is told which index to use.
     */
    public static String heldDueUntil(SqlDialect dialect) {
        String from = dialect == SqlDialect.SQLITE ? "FROM jobs INDEXED BY jobs_owned " : "FROM jobs ";
        return WINDOWED + from + "WHERE owner IS NOT NULL AND state = 'SCHEDULED' AND due_at <= ?" + GROUPED;
    }

    /** Counts on a connection of {@code database}'s read side. */
    public static List<PendingCount> run(SqlDatabase database, SqlDialect dialect, PendingCountParams params) {
        return database.readSql("count pending jobs", connection -> {
            Map<List<Object>, PendingCount> sums = new LinkedHashMap<>();
            if (params.dueUntil() == null) {
                count(connection, ALL, params.now(), null, sums);
            } else {
                count(connection, FREE_DUE_UNTIL, params.now(), params.dueUntil(), sums);
                count(connection, heldDueUntil(dialect), params.now(), params.dueUntil(), sums);
            }
            return new ArrayList<>(sums.values());
        });
    }

    /** Adds the counts of {@code sql} into {@code sums}, by tenant and window. */
    private static void count(Connection connection, String sql, Instant now, Instant dueUntil,
            Map<List<Object>, PendingCount> sums) throws SQLException {
        DueWindow[] windows = DueWindow.values();
        try (PreparedStatement count = connection.prepareStatement(sql)) {
            for (int i = 0; i < windows.length - 1; i++) {
                count.setLong(i + 1, windows[i].edge(now).toEpochMilli());
            }
            if (dueUntil != null) {
                count.setLong(windows.length, dueUntil.toEpochMilli());
            }
            try (ResultSet rs = count.executeQuery()) {
                while (rs.next()) {
                    PendingCount found = new PendingCount(rs.getString(1), windows[rs.getInt(2)], rs.getLong(3),
                            Instant.ofEpochMilli(rs.getLong(4)));
                    sums.merge(List.of(found.tenant(), found.window()), found, (a, b) -> new PendingCount(
                            a.tenant(), a.window(), a.count() + b.count(),
                            a.oldestDueAt().isBefore(b.oldestDueAt()) ? a.oldestDueAt() : b.oldestDueAt()));
                }
            }
        }
    }
}
