package dev.hourglass.store.jdbc;

import dev.hourglass.core.store.DueWindow;
import dev.hourglass.core.store.PendingCount;
import dev.hourglass.core.store.PendingCountParams;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link dev.hourglass.core.store.JobStore#countPending}, in SQL both stores speak: one grouped pass over the
 * SCHEDULED rows due until the bound, each put in its {@link DueWindow} by a CASE on {@code due_at} (epoch
 * milliseconds in both schemas). Both stores' index {@code jobs_scheduled_by_due (due_at, tenant) WHERE state =
 * 'SCHEDULED'} covers it, so the pass is a range of that index. The window edges are bound as parameters, so the
 * statement text never changes.
 */
public final class PendingCountQuery {
    /** The window's ordinal for each row: 0 overdue, 1 under a minute, ..., 4 a day or more. */
    public static final String SQL = "SELECT tenant, CASE WHEN due_at <= ? THEN 0 WHEN due_at <= ? THEN 1 "
            + "WHEN due_at <= ? THEN 2 WHEN due_at <= ? THEN 3 ELSE 4 END AS due_window, count(*), min(due_at) "
            + "FROM jobs WHERE state = 'SCHEDULED' AND due_at <= ? GROUP BY tenant, due_window";

    private PendingCountQuery() {}

    /** Counts on a connection of {@code database}'s read side. */
    public static List<PendingCount> run(SqlDatabase database, PendingCountParams params) {
        DueWindow[] windows = DueWindow.values();
        Instant now = params.now();
        long until = params.dueUntil() == null ? Long.MAX_VALUE : params.dueUntil().toEpochMilli();
        return database.readSql("count pending jobs", connection -> {
            try (PreparedStatement count = connection.prepareStatement(SQL)) {
                for (int i = 0; i < windows.length - 1; i++) {
                    count.setLong(i + 1, windows[i].edge(now).toEpochMilli());
                }
                count.setLong(windows.length, until);
                List<PendingCount> counts = new ArrayList<>();
                try (ResultSet rs = count.executeQuery()) {
                    while (rs.next()) {
                        counts.add(new PendingCount(rs.getString(1), windows[rs.getInt(2)], rs.getLong(3),
                                Instant.ofEpochMilli(rs.getLong(4))));
                    }
                }
                return counts;
            }
        });
    }
}
