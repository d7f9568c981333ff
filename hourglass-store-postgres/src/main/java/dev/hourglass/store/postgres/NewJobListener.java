package dev.hourglass.store.postgres;

import dev.hourglass.core.store.JobStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTENs on the store's {@link NewJobChannel} and hands the due time of each announced batch of jobs to the
 * subscribers (the engine, which claims them early if they are due within its horizon).
 *
 * <p>One dedicated connection outside the pool (a LISTEN holds its session for as long as it listens, and a
 * pooled connection would take a slot from the writers), on one daemon thread, from the first subscription until
 * the last one ends or the store closes. It blocks on the socket for notifications (they arrive as soon as the
 * notifying transaction commits), and probes the connection when it has been quiet for a while, since a connection
 * behind a dead network never fails a read that only waits.
 *
 * <p>It never throws into the engine: a broken connection is logged once, reopened with backoff (100 ms doubling to
 * 5 s) and logged again once listening resumes; what a subscriber throws is logged. Announcements are hints: those
 * made while the connection was down are lost, and the engine's regular horizon rounds find those jobs anyway.
 */
final class NewJobListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NewJobListener.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final Duration POLL = Duration.ofMillis(250);
    /** A quiet connection is probed about every 5 s: {@code 5 s / POLL} empty polls. */
    private static final int QUIET_POLLS_BEFORE_PROBE = 20;
    private static final Duration MIN_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    /** Opens a new, unpooled connection to the store's database. */
    @FunctionalInterface
    interface Connector {
        Connection open() throws SQLException;
    }

    private final Connector connector;
    private final NewJobChannel channel;
    private final String storeName;
    /** How long {@link #subscribe} waits for the first LISTEN, so that announcements work once it returns. */
    private final Duration firstListenWait;
    private final List<Consumer<Instant>> subscribers = new CopyOnWriteArrayList<>();
    /** The running session, or null; guarded by {@code this}. */
    private Session session;
    private boolean closed;

    NewJobListener(Connector connector, NewJobChannel channel, String storeName, Duration firstListenWait) {
        this.connector = connector;
        this.channel = channel;
        this.storeName = storeName;
        this.firstListenWait = firstListenWait;
    }

    /**
     * Adds a subscriber, starting to listen if it is the first, and waits (bounded) until the first LISTEN has
     * been answered, so that a job committed after this returns is announced.
     */
    JobStore.Subscription subscribe(Consumer<Instant> dueAt) {
        // A wrapper per subscription: the same consumer subscribed twice is two subscriptions, ended one by one.
        Consumer<Instant> subscriber = dueAt::accept;
        Session started;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("PostgreSQL store " + storeName + " is closed");
            }
            subscribers.add(subscriber);
            if (session == null) {
                session = new Session();
                session.start();
            }
            started = session;
        }
        started.awaitFirstAttempt(firstListenWait);
        return () -> unsubscribe(subscriber);
    }

    private void unsubscribe(Consumer<Instant> subscriber) {
        Session stopped = null;
        synchronized (this) {
            if (subscribers.remove(subscriber) && subscribers.isEmpty() && session != null) {
                stopped = session;
                session = null;
            }
        }
        if (stopped != null) {
            stopped.stop();
        }
    }

    /** Stops listening and closes the connection; waits briefly for the thread. Idempotent. */
    @Override
    public void close() {
        Session stopped;
        synchronized (this) {
            closed = true;
            subscribers.clear();
            stopped = session;
            session = null;
        }
        if (stopped != null) {
            stopped.stop();
        }
    }

    /** The server process of the listening connection, or -1 while there is none (for tests). */
    synchronized int backendPid() {
        return session == null ? -1 : session.backendPid;
    }

    private void deliver(Instant dueAt) {
        for (Consumer<Instant> subscriber : subscribers) {
            try {
                subscriber.accept(dueAt);
            } catch (RuntimeException e) {
                log.warn("a subscriber to new jobs of {} failed; ignored", storeName, e);
            }
        }
    }

    /** One thread with its connection, reopened as often as needed until {@link #stop}. */
    private final class Session implements Runnable {
        private final CountDownLatch stopping = new CountDownLatch(1);
        private final CountDownLatch firstAttempt = new CountDownLatch(1);
        private final Thread thread = Thread.ofPlatform().daemon(true)
                .name("hourglass-pg-listen-" + THREADS.incrementAndGet()).unstarted(this);
        private volatile int backendPid = -1;

        void start() {
            thread.start();
        }

        void awaitFirstAttempt(Duration timeout) {
            try {
                firstAttempt.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** The loop notices within one poll; waiting for it lets a closed store leave no connection behind. */
        void stop() {
            stopping.countDown();
            if (Thread.currentThread() != thread) {
                try {
                    thread.join(POLL.multipliedBy(4).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private boolean stopped() {
            return stopping.getCount() == 0;
        }

        @Override
        public void run() {
            Duration backoff = MIN_BACKOFF;
            boolean failing = false;
            while (!stopped()) {
                try (Connection connection = connector.open()) {
                    PGConnection pg = connection.unwrap(PGConnection.class);
                    try (Statement listen = connection.createStatement()) {
                        listen.execute("LISTEN " + channel.name()); // a plain identifier: see NewJobChannel
                    }
                    backendPid = pg.getBackendPID();
                    firstAttempt.countDown();
                    if (failing) {
                        log.info("listening for new jobs on {} again", storeName);
                        failing = false;
                    }
                    backoff = MIN_BACKOFF;
                    listen(connection, pg);
                } catch (SQLException | RuntimeException e) {
                    backendPid = -1;
                    firstAttempt.countDown();
                    if (stopped()) {
                        return;
                    }
                    if (!failing) {
                        log.warn("listening for new jobs on {} failed: {}; retrying with backoff (meanwhile jobs "
                                + "scheduled in callers' transactions are claimed by the regular horizon rounds)",
                                storeName, PostgresJobStore.driverMessage(e));
                        failing = true;
                    } else {
                        log.debug("listening for new jobs on {} failed again", storeName, e);
                    }
                    try {
                        stopping.await(backoff.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                    backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF
                            : backoff.multipliedBy(2);
                }
            }
        }

        /**
         * Until stopped or the connection fails (an exception). A connection that stays quiet is probed after
         * {@link #QUIET_POLLS_BEFORE_PROBE} empty polls in a row: each poll waits up to {@link #POLL} for a
         * notification, so the polls count the quiet time without reading a clock.
         */
        private void listen(Connection connection, PGConnection pg) throws SQLException {
            int quietPolls = 0;
            while (!stopped()) {
                PGNotification[] notifications = pg.getNotifications((int) POLL.toMillis());
                Instant earliest = null;
                if (notifications != null) {
                    for (PGNotification notification : notifications) {
                        Optional<Instant> dueAt = NewJobChannel.dueAt(notification.getParameter());
                        if (dueAt.isPresent() && (earliest == null || dueAt.get().isBefore(earliest))) {
                            earliest = dueAt.get();
                        }
                    }
                }
                if (earliest != null) {
                    deliver(earliest); // one wake-up for a burst read at once
                    quietPolls = 0;
                } else if (++quietPolls >= QUIET_POLLS_BEFORE_PROBE) {
                    try (Statement probe = connection.createStatement()) {
                        probe.execute("SELECT 1"); // bounded by the connection's network timeout
                    }
                    quietPolls = 0;
                }
            }
        }
    }
}
