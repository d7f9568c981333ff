package dev.hourglass.store.sqlite;

import dev.hourglass.core.time.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves WAL checkpoints off the commit path. By default SQLite checkpoints inside the COMMIT that pushes the WAL past
 * 1,000 pages: that commit then copies pages into the database file and fsyncs it, and every caller (and every job
 * start) waiting on that commit is late by tens of milliseconds. Here the writer's auto-checkpoint is raised to a
 * safety valve ({@link #WRITER_AUTOCHECKPOINT_PAGES}) and this thread runs a PASSIVE checkpoint on its own connection
 * every {@link #INTERVAL}: PASSIVE never takes the write lock, so it runs beside the writer instead of inside it.
 */
final class WalCheckpointer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);
    /** The writer checkpoints by itself only if this thread falls far behind (64 MiB of 4 KiB pages). */
    static final int WRITER_AUTOCHECKPOINT_PAGES = 16_384;
    static final Duration INTERVAL = Duration.ofMillis(100);
    /** A checkpoint that keeps failing (a full disk) is reported at most this often. */
    static final Duration WARNING_INTERVAL = Duration.ofMinutes(1);

    private final Connection connection;
    private final String name;
    private final Thread thread;
    /** Counted down once, by {@link #close}: the thread waits on it between checkpoints, so a close wakes it. */
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final RepeatedWarning failures;

    WalCheckpointer(Connection connection, String name, Ticker ticker) {
        this.connection = connection;
        this.name = name;
        this.failures = new RepeatedWarning(ticker, WARNING_INTERVAL);
        this.thread = Thread.ofPlatform().name("hourglass-wal-checkpoint").daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private void run() {
        try (Statement statement = connection.createStatement()) {
            do {
                checkpoint(statement);
            } while (!stopped.await(INTERVAL.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException e) {
            log.error("background WAL checkpointer of {} stopped; the writer checkpoints by itself", name, e);
        }
    }

    private void checkpoint(Statement statement) {
        try {
            statement.execute("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (SQLException e) {
            long count = failures.failed();
            if (count == 1) {
                log.warn("background WAL checkpoint of {} failed: {}; retrying every {} ms", name, e.getMessage(),
                        INTERVAL.toMillis());
            } else if (count > 1) {
                log.warn("background WAL checkpoint of {} failed {} more times since the last warning: {}", name,
                        count, e.getMessage());
            }
            return;
        }
        long run = failures.succeeded();
        if (run > 0) {
            log.info("background WAL checkpoint of {} works again after {} failures", name, run);
        }
    }

    /** Stops the thread and closes its connection (the store's final checkpoint runs on the writer). */
    @Override
    public void close() {
        stopped.countDown();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            log.debug("closing the checkpointer connection of {}", name, e);
        }
    }
}
