package dev.hourglass.store.sqlite;

import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of a {@link SqliteJobStore}. Immutable; invalid values are refused, never corrected.
 *
 * @param readConnections how many connections serve {@code find}/{@code list}/{@code lastJobId} concurrently
 *     (the writer has its own); readers beyond this wait for a free one, up to {@code busyTimeout}
 * @param busyTimeout how long a statement waits for a lock held by another connection (SQLite's
 *     {@code busy_timeout}), and how long a read waits for a free read connection
 * @param cacheSizeKib the page cache of each connection in KiB (SQLite's {@code cache_size}); the OS page cache
 *     sits behind all of them
 */
public record SqliteOptions(int readConnections, Duration busyTimeout, int cacheSizeKib) {
    public static final int DEFAULT_READ_CONNECTIONS = 4;
    public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_CACHE_SIZE_KIB = 32 * 1024;
    public static final int MAX_READ_CONNECTIONS = 64;

    public static final SqliteOptions DEFAULTS =
            new SqliteOptions(DEFAULT_READ_CONNECTIONS, DEFAULT_BUSY_TIMEOUT, DEFAULT_CACHE_SIZE_KIB);

    public SqliteOptions {
        Objects.requireNonNull(busyTimeout, "busyTimeout");
        if (readConnections < 1 || readConnections > MAX_READ_CONNECTIONS) {
            throw new IllegalArgumentException(
                    "readConnections must be between 1 and " + MAX_READ_CONNECTIONS + ", was " + readConnections);
        }
        if (busyTimeout.isNegative() || busyTimeout.isZero() || busyTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("busyTimeout must be > 0 and < 24 days, was " + busyTimeout);
        }
        if (cacheSizeKib < 64) {
            throw new IllegalArgumentException("cacheSizeKib must be >= 64, was " + cacheSizeKib);
        }
    }

    public SqliteOptions withReadConnections(int value) {
        return new SqliteOptions(value, busyTimeout, cacheSizeKib);
    }

    public SqliteOptions withBusyTimeout(Duration value) {
        return new SqliteOptions(readConnections, value, cacheSizeKib);
    }

    public SqliteOptions withCacheSizeKib(int value) {
        return new SqliteOptions(readConnections, busyTimeout, value);
    }
}
