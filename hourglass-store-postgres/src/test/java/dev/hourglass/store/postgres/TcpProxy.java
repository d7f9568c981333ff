package dev.hourglass.store.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback TCP proxy in front of a database, for outage tests that must not touch the real server (other tests
 * run against it): point the store at {@link #jdbcUrl(String)} and {@link #cut} the network, then {@link #restore}
 * it.
 *
 * <ul>
 *   <li>{@link Fault#REFUSE}: a stopped or restarting server. Every open connection is closed at once (both ends
 *       see the socket close) and nothing listens on the port any more, so new connections are refused.</li>
 *   <li>{@link Fault#BLACKHOLE}: a hung network (or a frozen server), the nasty case, where no error ever arrives.
 *       Open connections stay open but nothing passes, in either direction; new connections are accepted (by the
 *       kernel, as a listening socket does) but never answered. On restore what was sent meanwhile is delivered,
 *       as TCP would retransmit it after a partition heals, so a late COMMIT may still reach the server.</li>
 * </ul>
 *
 * <p>Threads: one acceptor, and two virtual threads per connection (one per direction).
 */
public final class TcpProxy implements AutoCloseable {

    /** How the network fails. */
    public enum Fault { REFUSE, BLACKHOLE }

    private static final Pattern URL = Pattern.compile("jdbc:postgresql://([^/:?,]+)(?::(\\d+))?(/.*)?");

    private final String targetHost;
    private final int targetPort;
    private final int port;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Object lock = new Object();
    /** Open while data may pass; a fresh, closed latch while blackholed. */
    private volatile CountDownLatch passable = new CountDownLatch(0);
    private ServerSocket listener; // guarded by lock; null while refusing
    private Fault fault; // guarded by lock; null while healthy
    private volatile boolean closed;

    private TcpProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        try {
            ServerSocket first = new ServerSocket();
            first.setReuseAddress(true);
            first.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            this.port = first.getLocalPort();
            synchronized (lock) {
                listen(first);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A proxy on a free loopback port, forwarding to {@code targetHost:targetPort}. */
    public static TcpProxy start(String targetHost, int targetPort) {
        return new TcpProxy(targetHost, targetPort);
    }

    /** A proxy forwarding to the server of a single-host {@code jdbc:postgresql://host[:port]/...} URL. */
    public static TcpProxy forJdbcUrl(String jdbcUrl) {
        Matcher m = matchUrl(jdbcUrl);
        return start(m.group(1), m.group(2) == null ? 5432 : Integer.parseInt(m.group(2)));
    }

    /** {@code jdbcUrl} with its host and port replaced by this proxy's. */
    public String jdbcUrl(String jdbcUrl) {
        Matcher m = matchUrl(jdbcUrl);
        return "jdbc:postgresql://127.0.0.1:" + port + (m.group(3) == null ? "/" : m.group(3));
    }

    private static Matcher matchUrl(String jdbcUrl) {
        Matcher m = URL.matcher(jdbcUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a single-host jdbc:postgresql://host[:port]/... URL: " + jdbcUrl);
        }
        return m;
    }

    public int port() {
        return port;
    }

    /** Connections accepted so far (including those held while blackholed). */
    public int connectionsAccepted() {
        return accepted.get();
    }

    /** Breaks the network as {@code how} says, until {@link #restore()}. */
    public void cut(Fault how) {
        synchronized (lock) {
            if (fault == Fault.REFUSE) {
                return; // nothing more to break
            }
            fault = how;
            if (how == Fault.BLACKHOLE) {
                passable = new CountDownLatch(1);
                return;
            }
            closeQuietly(listener);
            listener = null;
            sockets.forEach(this::closeQuietly);
            passable.countDown(); // the held data has nowhere to go now: let its threads find the sockets closed
        }
    }

    /** Mends the network: listens again after REFUSE; after BLACKHOLE, lets everything held pass. */
    public void restore() {
        synchronized (lock) {
            if (fault == Fault.REFUSE && !closed) {
                listen(rebind());
            }
            fault = null;
            passable.countDown();
        }
    }

    /** The port is ours: a listening socket closed a moment ago can be bound again at once (SO_REUSEADDR). */
    private ServerSocket rebind() {
        IOException last = null;
        for (int i = 0; i < 20; i++) {
            try {
                ServerSocket again = new ServerSocket();
                again.setReuseAddress(true);
                again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                return again;
            } catch (IOException e) {
                last = e;
                sleep(50);
            }
        }
        throw new UncheckedIOException("cannot listen on port " + port + " again", last);
    }

    private void listen(ServerSocket socket) {
        listener = socket;
        Thread.ofVirtual().name("tcp-proxy-accept-" + port).start(() -> accept(socket));
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            Socket client;
            try {
                client = socket.accept();
            } catch (IOException e) {
                return; // closed by cut(REFUSE) or close()
            }
            accepted.incrementAndGet();
            sockets.add(client);
            Thread.ofVirtual().name("tcp-proxy-conn").start(() -> connect(client));
        }
    }

    /** Connects a client to the target once data may pass (at once unless blackholed), then pumps both ways. */
    private void connect(Socket client) {
        Socket upstream = null;
        try {
            awaitPassable();
            if (client.isClosed()) {
                return;
            }
            upstream = new Socket();
            sockets.add(upstream);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
            Socket server = upstream;
            Thread.ofVirtual().name("tcp-proxy-up").start(() -> pump(client, server));
            pump(server, client);
        } catch (IOException e) {
            closeBoth(client, upstream);
        }
    }

    /** Copies {@code from} to {@code to}, holding each chunk while blackholed; closes both ends at EOF or error. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                awaitPassable();
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // a cut, or the other side went away
        } finally {
            closeBoth(from, to);
        }
    }

    private void awaitPassable() {
        try {
            passable.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeBoth(Socket a, Socket b) {
        closeQuietly(a);
        closeQuietly(b);
    }

    private void closeQuietly(Socket socket) {
        if (socket != null) {
            sockets.remove(socket);
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private static void closeQuietly(ServerSocket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops listening and closes every connection. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            closeQuietly(listener);
            listener = null;
            sockets.forEach(this::closeQuietly);
            passable.countDown();
        }
    }
}
