package dev.hourglass.store.jdbc;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;

/**
 * How the SQL stores keep times and durations: whole epoch milliseconds in a 64-bit integer column, anything finer
 * truncated (the store SPI promises milliseconds, nothing finer). Null stays null.
 */
public final class EpochMillis {

    private EpochMillis() {}

    public static long millis(Instant instant) {
        return instant.toEpochMilli();
    }

    public static Long millisOrNull(Instant instant) {
        return instant == null ? null : instant.toEpochMilli();
    }

    public static Long millisOrNull(Duration duration) {
        return duration == null ? null : duration.toMillis();
    }

    /** Binds {@code instant} in milliseconds, or SQL NULL. */
    public static void setMillisOrNull(PreparedStatement statement, int index, Instant instant) throws SQLException {
        if (instant == null) {
            statement.setNull(index, Types.BIGINT);
        } else {
            statement.setLong(index, instant.toEpochMilli());
        }
    }

    /** Binds {@code duration} in milliseconds, or SQL NULL. */
    public static void setMillisOrNull(PreparedStatement statement, int index, Duration duration)
            throws SQLException {
        if (duration == null) {
            statement.setNull(index, Types.BIGINT);
        } else {
            statement.setLong(index, duration.toMillis());
        }
    }
}
