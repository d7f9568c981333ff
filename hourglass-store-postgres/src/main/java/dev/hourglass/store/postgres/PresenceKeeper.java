package dev.hourglass.store.postgres;

import dev.hourglass.core.store.NodePresence;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one node's presence mark: a session-level advisory lock ({@link #LOCK}), on a connection of its own outside
 * the pool, for as long as the node runs. When the node's process dies, the kernel closes its sockets, PostgreSQL
 * ends the session and frees the lock at once; a rescuer that then gets the lock knows the node is gone (see
 * {@link PostgresTx#rescueExpired}), seconds before its lease would run out.
 *
 * <p>The mark also records the server's life it was taken in ({@link #epoch()}: {@code pg_postmaster_start_time()}
 * in microseconds), which the node's heartbeat writes to its {@code nodes} row. A rescue trusts a free lock only when
 * that epoch is the server's current one: after a server restart every session ended and every lock is free, live
 * nodes' too, until they reconnect, and those nodes are then left to their leases.
 *
 * <p>One daemon thread per mark. It waits on the connection's socket (as the {@link NewJobListener} does), so a
 * session the server ends (an administrator's {@code pg_terminate_backend}, a server restart) is noticed at once,
 * and probes a quiet connection every few seconds. A lost mark makes the presence {@link #lapsed()} (the engine then
 * starts nothing, since other nodes may take it for dead) until the thread has taken the lock again on a new
 * connection, retried with backoff. A lock another session holds (another process started with the same node id, or
 * a rescuer handing this node's claims back at this moment) is retried the same way.
 */
final class PresenceKeeper implements NodePresence {
    private static final Logger log = LoggerFactory.getLogger(PresenceKeeper.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final Duration POLL = Duration.ofMillis(250);
    /** A quiet connection is probed about every 5 s: {@code 5 s / POLL} empty polls. */
    private static final int QUIET_POLLS_BEFORE_PROBE = 20;
    private static final Duration MIN_BACKOFF = Duration.ofMillis(50);
    /**
     * Short: a node that lives but lost every connection at once (a proxy restarting) counts as dead once it has
     * been silent for the rescue's grace (two load intervals, {@link dev.hourglass.core.store.RescueParams}); taking
     * the mark back within it keeps its claims.
     */
    private static final Duration MAX_BACKOFF = Duration.ofMillis(500);

    /**
     * The lock's key, the same expression as the rescue's ({@link PostgresTx#presenceKey}): keyed by schema and
     * node, so two deployments in two schemas of one database do not meet. Parameters: schema, node.
     */
    static final String LOCK = "SELECT pg_try_advisory_lock(hashtextextended('hourglass presence ' || ?::text || ' ' "
            + "|| ?::text, 0)), " + PostgresTx.SERVER_EPOCH;

    private final NewJobListener.Connector connector;
    private final String schema;
    private final String node;
    private final String storeName;
    private final Runnable onClose;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final CountDownLatch firstAttempt = new CountDownLatch(1);
    private final Thread thread;
    /** The server epoch of the held lock, or null while none is held. Written by the keeper's thread only. */
    private volatile Long epoch;
    private volatile boolean lapsed;
    private volatile int backendPid = -1;

    /** @param onClose called once when the mark is dropped (the store forgets it) */
    PresenceKeeper(NewJobListener.Connector connector, String schema, String node, String storeName,
            Runnable onClose) {
        this.connector = connector;
        this.schema = schema;
        this.node = node;
        this.storeName = storeName;
        this.onClose = onClose;
        this.thread = Thread.ofPlatform().daemon(true).name("hourglass-pg-presence-" + THREADS.incrementAndGet())
                .unstarted(this::run);
    }

    /** Starts the thread and waits, at most {@code firstWait}, for its first attempt to take the lock. */
    PresenceKeeper start(Duration firstWait) {
        thread.start();
        try {
            firstAttempt.await(firstWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return this;
    }

    /** The server epoch of the lock held now, or null when none is: what the node's heartbeat records. */
    Long epoch() {
        return epoch;
    }

    @Override
    public boolean lapsed() {
        return lapsed;
    }

    /** The server process holding the lock, or -1 while none does (for tests). */
    int backendPid() {
        return backendPid;
    }

    /** Ends the session, which frees the lock; waits briefly for the thread. Idempotent. */
    @Override
    public void close() {
        if (stopping.getCount() == 0) {
            return;
        }
        stopping.countDown();
        try {
            thread.join(POLL.multipliedBy(4).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        onClose.run();
    }

    private boolean stopped() {
        return stopping.getCount() == 0;
    }

    private void run() {
        Duration backoff = MIN_BACKOFF;
        boolean warned = false;
        while (!stopped()) {
            try (Connection connection = connector.open()) {
                Long taken = tryLock(connection);
                firstAttempt.countDown();
                if (taken != null) {
                    backendPid = connection.unwrap(PGConnection.class).getBackendPID();
                    epoch = taken;
                    if (lapsed || warned) {
                        log.info("presence of node {} in {} held again", node, storeName);
                    }
                    lapsed = false;
                    warned = false;
                    backoff = MIN_BACKOFF;
                    hold(connection);
                } else if (!warned) {
                    log.warn("presence of node {} in {} is held by another session: another process with the same "
                            + "node id, or a node rescuing this node's claims; retrying ({})", node, storeName,
                            lapsed ? "this node starts nothing meanwhile" : "this node depends on its lease meanwhile");
                    warned = true;
                }
            } catch (SQLException | RuntimeException e) {
                firstAttempt.countDown();
                if (stopped()) {
                    return;
                }
                if (epoch != null) {
                    log.warn("presence of node {} in {} lost: {}; other nodes may take this node for dead, so it "
                            + "starts nothing until the mark is held again", node, storeName,
                            PostgresJobStore.driverMessage(e));
                    lapsed = true;
                } else {
                    log.debug("taking the presence of node {} in {} failed", node, storeName, e);
                }
            } finally {
                epoch = null;
                backendPid = -1;
            }
            if (stopped()) {
                return;
            }
            try {
                if (stopping.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException interrupted) {
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /** The server epoch if this session got the lock, else null. */
    private Long tryLock(Connection connection) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement(LOCK)) {
            lock.setString(1, schema);
            lock.setString(2, node);
            try (ResultSet rs = lock.executeQuery()) {
                return rs.next() && rs.getBoolean(1) ? rs.getLong(2) : null;
            }
        }
    }

    /**
     * Until stopped (a normal return: closing the connection frees the lock) or the connection fails (an
     * exception). Waiting for notifications that never come is a read on the socket: a session the server ends
     * fails it at once. A quiet connection is probed every {@link #QUIET_POLLS_BEFORE_PROBE} polls, since a
     * connection behind a dead network never fails a read that only waits.
     */
    private void hold(Connection connection) throws SQLException {
        PGConnection pg = connection.unwrap(PGConnection.class);
        int quietPolls = 0;
        while (!stopped()) {
            pg.getNotifications((int) POLL.toMillis());
            if (++quietPolls >= QUIET_POLLS_BEFORE_PROBE) {
                try (Statement probe = connection.createStatement()) {
                    probe.execute("SELECT 1"); // bounded by the connection's network timeout
                }
                quietPolls = 0;
            }
        }
    }
}
