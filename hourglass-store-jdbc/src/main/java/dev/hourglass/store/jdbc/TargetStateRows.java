package dev.hourglass.store.jdbc;

import dev.hourglass.core.monitor.AlarmLevel;
import dev.hourglass.core.store.TargetState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Rows of {@code target_states}, as both stores read and write them. The statements are the same SQL on both: a
 * version 1 is inserted unless the target has a row, a later version replaces the version just before it.
 */
public final class TargetStateRows {
    public static final String SELECT_ALL = "SELECT tenant, target, level, since, paused, paused_at, paused_by, "
            + "version, updated_at FROM target_states";

    public static final String INSERT_FIRST = "INSERT INTO target_states (tenant, target, level, since, paused, "
            + "paused_at, paused_by, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            + "ON CONFLICT (tenant, target) DO NOTHING";

    public static final String REPLACE_PREVIOUS = "UPDATE target_states SET level = ?, since = ?, paused = ?, "
            + "paused_at = ?, paused_by = ?, version = ?, updated_at = ? "
            + "WHERE tenant = ? AND target = ? AND version = ?";

    private TargetStateRows() {}

    /** Every target state, read on {@code connection}. */
    public static List<TargetState> readAll(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(SELECT_ALL); ResultSet rs = select.executeQuery()) {
            List<TargetState> states = new ArrayList<>();
            while (rs.next()) {
                states.add(read(rs));
            }
            return states;
        }
    }

    /** The row the result set is on, from the columns of {@link #SELECT_ALL}. */
    public static TargetState read(ResultSet rs) throws SQLException {
        String paused = rs.getString(5);
        long pausedAt = rs.getLong(6);
        boolean noPausedAt = rs.wasNull();
        return new TargetState(rs.getString(1), rs.getString(2), AlarmLevel.valueOf(rs.getString(3)),
                Instant.ofEpochMilli(rs.getLong(4)), paused == null ? null : TargetState.Pause.valueOf(paused),
                noPausedAt ? null : Instant.ofEpochMilli(pausedAt), rs.getString(7), rs.getLong(8),
                Instant.ofEpochMilli(rs.getLong(9)));
    }

    /** Binds a first version to {@link #INSERT_FIRST}. */
    public static void bindInsert(PreparedStatement insert, TargetState s) throws SQLException {
        insert.setString(1, s.tenant());
        insert.setString(2, s.target());
        insert.setString(3, s.level().name());
        insert.setLong(4, EpochMillis.millis(s.since()));
        insert.setString(5, s.paused() == null ? null : s.paused().name());
        setMillis(insert, 6, s.pausedAt());
        insert.setString(7, s.pausedBy());
        insert.setLong(8, s.version());
        insert.setLong(9, EpochMillis.millis(s.updatedAt()));
    }

    /** Binds a later version to {@link #REPLACE_PREVIOUS}. */
    public static void bindReplace(PreparedStatement update, TargetState s) throws SQLException {
        update.setString(1, s.level().name());
        update.setLong(2, EpochMillis.millis(s.since()));
        update.setString(3, s.paused() == null ? null : s.paused().name());
        setMillis(update, 4, s.pausedAt());
        update.setString(5, s.pausedBy());
        update.setLong(6, s.version());
        update.setLong(7, EpochMillis.millis(s.updatedAt()));
        update.setString(8, s.tenant());
        update.setString(9, s.target());
        update.setLong(10, s.version() - 1);
    }

    private static void setMillis(PreparedStatement statement, int index, Instant instant) throws SQLException {
        if (instant == null) {
            statement.setNull(index, Types.BIGINT);
        } else {
            statement.setLong(index, EpochMillis.millis(instant));
        }
    }
}
