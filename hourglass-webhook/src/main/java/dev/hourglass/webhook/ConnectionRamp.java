package dev.hourglass.webhook;

import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.hc.client5.http.HttpRoute;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.io.ConnectionEndpoint;
import org.apache.hc.client5.http.io.HttpClientConnectionManager;
import org.apache.hc.client5.http.io.LeaseRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.ConnPoolControl;
import org.apache.hc.core5.pool.PoolStats;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The webhook client's connection pool, which opens connections to one receiver a few at a time: at most
 * {@value #OPENING} new connections to a receiver (a route: scheme, host and port) are <i>opening</i> at once, where a
 * new connection counts as opening from its lease until its first answer arrives (status and headers: the receiver
 * accepted it and answered), or for at most {@link #STALL_NANOS} if the receiver is slow to answer. A delivery that
 * finds no idle connection to its receiver and no room to open one waits for the first of: a connection of that
 * receiver coming back to the pool (it takes it: a keep-alive reuse), room to open one, or a stall. A delivery that
 * finds an idle connection never waits, and this costs it a map entry.
 *
 * <p><b>Why.</b> Without it, N webhooks due at one instant to a receiver the client has no connection to open N
 * connections at once. A receiver's accept queue holds only so many connections it has not accepted yet (its listen
 * backlog: 5 for Python's {@code http.server}, 50 for a JDK {@code HttpServer} or {@code ServerSocket}, 511 for
 * Node.js); the kernel drops the SYNs beyond it, and each dropped connection waits for the client to send its SYN
 * again, one second later (then three). So of 50 webhooks due together to a receiver with a small backlog, most
 * arrived in milliseconds and some one to two seconds late (the noisy-http bench, docs/perf-log.md). Opened a few
 * at a time, a burst rides on the connections that have answered: the receiver's accept queue never holds more than
 * {@value #OPENING} of them, and a receiver that answers in a millisecond takes 50 webhooks in a few round trips.
 * A receiver slow to answer still gets a new connection every {@link #STALL_NANOS} per opening slot (400 a second),
 * so a burst to it is spread over a little more time, never held for its answers, and one that hangs holds back no
 * other receiver. A receiver that several tenants deliver to is one receiver here: it has one accept queue.
 *
 * <p>Everything else is the {@link PoolingHttpClientConnectionManager}'s: limits, validation, idle eviction,
 * keep-alive. Waiting counts against the attempt's time like any other part of the delivery (the engine's watchdog
 * interrupts it at the job's timeout; the wait is interruptible). The first answer on a connection is heard through
 * {@link #interceptor()}, which the client places right after its connect step.
 *
 * <p>Threads: the attempts' (virtual) threads lease, answer and release; each receiver's state is guarded by its
 * own lock, held for short non-blocking work only (the pool's calls are made outside it), and taken only by
 * deliveries that open a connection or wait, and by releases while some wait. A receiver with no delivery waiting
 * and no connection opening has no state here. Waits are measured with {@link Condition#awaitNanos} (monotonic);
 * nothing here reads a clock.
 */
final class ConnectionRamp implements HttpClientConnectionManager, ConnPoolControl<HttpRoute> {
    /** New connections to one receiver opening at once. */
    static final int OPENING = 4;
    /** The longest a new connection counts as opening: a receiver slow to answer still gets more connections. */
    static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** The attribute of an exchange's context naming the connection it opened, until its answer. */
    private static final String OPENED = ConnectionRamp.class.getName() + ".opened";

    private final PoolingHttpClientConnectionManager pool;
    private final int opening;
    private final long stallNanos;
    /** The receivers some lease waits for or opens a connection to; a receiver leaves when none does. */
    private final Map<HttpRoute, Receiver> receivers = new ConcurrentHashMap<>();
    /** Every endpoint leased and not yet released (identity keys: endpoints do not override equals). */
    private final Map<ConnectionEndpoint, Leased> leased = new ConcurrentHashMap<>();

    /**
     * A leased endpoint's receiver: {@code opener} is the receiver's state when the lease opened the connection
     * (it holds a use of that state until released), null when it reused an idle one.
     */
    private record Leased(HttpRoute route, Receiver opener) {}

    /** One receiver's connections that are opening, and the leases waiting to get one. */
    private static final class Receiver {
        final ReentrantLock lock = new ReentrantLock();
        /** Signalled when a connection of this receiver comes back to the pool, or an opening one stops counting. */
        final Condition changed = lock.newCondition();
        /** New connections opening, oldest first (identity: an endpoint is its own key). Guarded by the lock. */
        final Set<ConnectionEndpoint> opening = new LinkedHashSet<>();
        /**
         * Counts every change a waiting lease could be woken by (written under the lock); a lease that saw none for
         * a stall expires one opening connection.
         */
        volatile long changes;
        /** Leases that found no idle connection: while there are any, every connection back in the pool is told. */
        final AtomicInteger waiting = new AtomicInteger();
        /** Leases waiting or opening, and connections they opened and did not release yet; guarded by the map. */
        int users;
    }

    ConnectionRamp(PoolingHttpClientConnectionManager pool) {
        this(pool, OPENING, STALL_NANOS);
    }

    /**
     * @param opening new connections to one receiver opening at once
     * @param stallNanos the longest a new connection counts as opening
     */
    ConnectionRamp(PoolingHttpClientConnectionManager pool, int opening, long stallNanos) {
        if (opening < 1 || stallNanos < 1) {
            throw new IllegalArgumentException("opening and stall must be positive");
        }
        this.pool = Objects.requireNonNull(pool, "pool");
        this.opening = opening;
        this.stallNanos = stallNanos;
    }

    @Override
    public LeaseRequest lease(String id, HttpRoute route, Timeout requestTimeout, Object state) {
        return new Lease(id, route, requestTimeout, state);
    }

    /** A lease that takes an idle connection of its receiver, or room to open one, waiting for either. */
    private final class Lease implements LeaseRequest {
        private final String id;
        private final HttpRoute route;
        private final Timeout requestTimeout;
        private final Object state;
        private volatile boolean cancelled;
        private volatile LeaseRequest current;

        Lease(String id, HttpRoute route, Timeout requestTimeout, Object state) {
            this.id = id;
            this.route = route;
            this.requestTimeout = requestTimeout;
            this.state = state;
        }

        @Override
        public ConnectionEndpoint get(Timeout timeout)
                throws InterruptedException, ExecutionException, TimeoutException {
            ConnectionEndpoint endpoint = fromPool(timeout);
            if (endpoint.isConnected()) {
                return endpoint; // the common case: an idle keep-alive connection, nothing to open or wait for
            }
            long left = Timeout.isPositive(timeout) ? timeout.toNanoseconds() : Long.MAX_VALUE;
            Receiver receiver = enter(route);
            receiver.waiting.incrementAndGet();
            boolean opened = false;
            try {
                // The first look uses the endpoint leased before this lease counted as waiting: a connection that
                // came back meanwhile was not told, so without room this lease looks once more before it waits.
                boolean told = false;
                while (true) {
                    long seen = receiver.changes; // read before the lease it judges, so that no change is missed
                    if (endpoint == null) {
                        endpoint = fromPool(timeout);
                        if (endpoint.isConnected()) {
                            return endpoint;
                        }
                    }
                    receiver.lock.lock();
                    try {
                        if (receiver.opening.size() < opening) {
                            receiver.opening.add(endpoint);
                            leased.put(endpoint, new Leased(route, receiver));
                            opened = true;
                            return endpoint;
                        }
                    } finally {
                        receiver.lock.unlock();
                    }
                    // No room to open a connection: the unconnected entry goes back (the pool drops it).
                    pool.release(endpoint, null, TimeValue.ZERO_MILLISECONDS);
                    endpoint = null;
                    if (told) {
                        left = await(receiver, seen, left);
                        if (left <= 0) {
                            throw new TimeoutException("Timeout deadline: " + timeout + ", no connection to "
                                    + route + " in time");
                        }
                    }
                    told = true;
                    if (cancelled) {
                        throw new CancellationException("Operation cancelled");
                    }
                }
            } finally {
                receiver.waiting.decrementAndGet();
                if (!opened) {
                    leave(route);
                } // else the connection it opened keeps the receiver's state until it is released
            }
        }

        /** A lease from the pool: an idle connection of the receiver if there is one, else an unconnected entry. */
        private ConnectionEndpoint fromPool(Timeout timeout)
                throws InterruptedException, ExecutionException, TimeoutException {
            if (cancelled) {
                throw new CancellationException("Operation cancelled");
            }
            LeaseRequest request = pool.lease(id, route, requestTimeout, state);
            current = request;
            ConnectionEndpoint endpoint = request.get(timeout);
            if (endpoint.isConnected()) {
                leased.put(endpoint, new Leased(route, null));
            }
            return endpoint;
        }

        @Override
        public boolean cancel() {
            cancelled = true;
            LeaseRequest request = current;
            Receiver receiver = receivers.get(route);
            if (receiver != null) {
                receiver.lock.lock();
                try {
                    receiver.changes++;
                    receiver.changed.signalAll(); // rare: an exchange aborted while it waited for a connection
                } finally {
                    receiver.lock.unlock();
                }
            }
            return request == null || request.cancel();
        }
    }

    /**
     * Waits for a change at {@code receiver} (a connection back in the pool, an opening one that stopped counting)
     * or a stall; after a stall with no change since {@code seen}, the oldest opening connection stops counting, so
     * that this lease may open one. Returns the time left of {@code left}.
     */
    private long await(Receiver receiver, long seen, long left) throws InterruptedException {
        receiver.lock.lock();
        try {
            if (receiver.changes != seen) {
                return left; // changed since the lease looked: look again at once
            }
            long wait = Math.min(left, stallNanos);
            long waited = wait - receiver.changed.awaitNanos(wait);
            if (receiver.changes == seen && !receiver.opening.isEmpty() && waited >= stallNanos) {
                // A stall: the receiver answered none of its opening connections for that long. The oldest stops
                // counting, and this lease takes its room (the change wakes no one else: the room is this lease's).
                var oldest = receiver.opening.iterator();
                oldest.next();
                oldest.remove();
                receiver.changes++;
            }
            return left == Long.MAX_VALUE ? left : left - waited;
        } finally {
            receiver.lock.unlock();
        }
    }

    private Receiver enter(HttpRoute route) {
        return receivers.compute(route, (k, r) -> {
            Receiver receiver = r != null ? r : new Receiver();
            receiver.users++;
            return receiver;
        });
    }

    private void leave(HttpRoute route) {
        receivers.computeIfPresent(route, (k, r) -> --r.users == 0 ? null : r);
    }

    /**
     * Back to the pool (kept alive or closed): if leases wait for this receiver, wakes one, which takes the
     * connection, and one more if the connection was still opening (its room is free).
     */
    @Override
    public void release(ConnectionEndpoint endpoint, Object newState, TimeValue validDuration) {
        Leased lease = leased.remove(endpoint);
        pool.release(endpoint, newState, validDuration);
        if (lease == null) {
            return;
        }
        Receiver receiver = lease.opener() != null ? lease.opener() : receivers.get(lease.route());
        if (receiver != null && (lease.opener() != null || receiver.waiting.get() > 0)) {
            receiver.lock.lock();
            try {
                receiver.changes++;
                receiver.changed.signal();
                if (receiver.opening.remove(endpoint)) {
                    receiver.changed.signal();
                }
            } finally {
                receiver.lock.unlock();
            }
        }
        if (lease.opener() != null) {
            leave(lease.route());
        }
    }

    /**
     * Connects a new connection, and marks it in {@code context} so that {@link #answered} hears of its first answer
     * (the exchange's own context: one exchange at a time per connection).
     */
    @Override
    public void connect(ConnectionEndpoint endpoint, TimeValue connectTimeout, HttpContext context)
            throws IOException {
        pool.connect(endpoint, connectTimeout, context);
        if (context != null) {
            context.setAttribute(OPENED, endpoint);
        }
    }

    /**
     * The exchange whose {@code context} this is got its answer (status and headers): if it opened its connection,
     * the connection no longer counts as opening, and a delivery waiting to open one may. Called by the exec
     * interceptor {@link #interceptor()} on the exchange's thread.
     */
    void answered(HttpContext context) {
        if (!(context.removeAttribute(OPENED) instanceof ConnectionEndpoint endpoint)) {
            return;
        }
        Leased lease = leased.get(endpoint);
        Receiver receiver = lease == null ? null : lease.opener();
        if (receiver == null) {
            return;
        }
        receiver.lock.lock();
        try {
            if (receiver.opening.remove(endpoint)) {
                receiver.changes++;
                receiver.changed.signal();
            }
        } finally {
            receiver.lock.unlock();
        }
    }

    /** Tells {@link #answered} of every answer; to be placed right after the client's connect step. */
    ExecChainHandler interceptor() {
        return (request, scope, chain) -> {
            ClassicHttpResponse response = chain.proceed(request, scope);
            answered(scope.clientContext);
            return response;
        };
    }

    @Override
    public void upgrade(ConnectionEndpoint endpoint, HttpContext context) throws IOException {
        pool.upgrade(endpoint, context);
    }

    @Override
    public void close(CloseMode closeMode) {
        pool.close(closeMode);
    }

    @Override
    public void close() {
        pool.close();
    }

    @Override
    public void setMaxTotal(int max) {
        pool.setMaxTotal(max);
    }

    @Override
    public int getMaxTotal() {
        return pool.getMaxTotal();
    }

    @Override
    public void setDefaultMaxPerRoute(int max) {
        pool.setDefaultMaxPerRoute(max);
    }

    @Override
    public int getDefaultMaxPerRoute() {
        return pool.getDefaultMaxPerRoute();
    }

    @Override
    public void setMaxPerRoute(HttpRoute route, int max) {
        pool.setMaxPerRoute(route, max);
    }

    @Override
    public int getMaxPerRoute(HttpRoute route) {
        return pool.getMaxPerRoute(route);
    }

    @Override
    public void closeIdle(TimeValue idleTime) {
        pool.closeIdle(idleTime);
    }

    @Override
    public void closeExpired() {
        pool.closeExpired();
    }

    @Override
    public Set<HttpRoute> getRoutes() {
        return pool.getRoutes();
    }

    @Override
    public PoolStats getTotalStats() {
        return pool.getTotalStats();
    }

    @Override
    public PoolStats getStats(HttpRoute route) {
        return pool.getStats(route);
    }
}
