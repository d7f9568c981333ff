package dev.hourglass.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;

/**
 * A webhook receiver in a process of its own, for {@link HttpNoisyNeighbour}: one JDK HttpServer on loopback per
 * argument, each answering 204 to every POST, at most {@code rate} per second when the argument is {@code name:rate}
 * ({@code name:0}: as fast as it can). A throttled receiver takes every request at once and answers each in its turn
 * (one every {@code 1/rate} seconds), as a receiver with a fixed capacity does: requests beyond that wait in it.
 * With {@code --plain}, the servers keep the JDK's defaults (an accept backlog of 50; the JVM's
 * {@code sun.net.httpserver} properties are the caller's) and answer {@code 200 {"ok":true}}, as a receiver written
 * without tuning does; {@code --backlog=N} sets the accept backlog (how many connections the kernel holds for a
 * server that has not accepted them yet: 5 for Python's {@code http.server}, 50 for a JDK server, 511 for Node.js).
 *
 * <p>Prints {@code LISTENING port...} (one port per argument, in order) once all listen, then one line per request
 * as it arrives: {@code D name arrivedMicros dueMicros jobId} (the wall clock, shared with the parent process; the
 * due time from {@code Hourglass-Due-At}). Ends when its standard input closes (the parent went away), so that it
 * never outlives the bench.
 */
public final class ThrottledReceiver {
    /** Requests to this path are answered at once and not reported: they warm the receiver up. */
    static final String WARM_UP = "/warm-up";
    private static final byte[] OK = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);

    private ThrottledReceiver() {}

    /** A request's turn: every {@code interval} nanoseconds, one answer. */
    private static final class Throttle {
        private final long intervalNanos;
        private long next;

        Throttle(int rate) {
            this.intervalNanos = rate <= 0 ? 0 : 1_000_000_000L / rate;
        }

        /** Waits for this request's turn. */
        void await() {
            if (intervalNanos == 0) {
                return;
            }
            long slot;
            long now = System.nanoTime();
            synchronized (this) {
                slot = Math.max(now, next);
                next = slot + intervalNanos;
            }
            long wait;
            while ((wait = slot - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
        }
    }

    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.UTF_8);
        List<HttpServer> servers = new ArrayList<>();
        StringBuilder ports = new StringBuilder("LISTENING");
        boolean plain = false;
        Integer backlog = null;
        List<String> specs = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals("--plain")) {
                plain = true;
            } else if (arg.startsWith("--backlog=")) {
                backlog = Integer.parseInt(arg.substring("--backlog=".length()));
            } else {
                specs.add(arg);
            }
        }
        for (String arg : specs) {
            String[] spec = arg.split(":");
            String name = spec[0];
            Throttle throttle = new Throttle(Integer.parseInt(spec[1]));
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0),
                    backlog != null ? backlog : plain ? 0 : 4096);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            boolean withBody = plain;
            server.createContext("/", exchange -> handle(exchange, name, throttle, out, withBody));
            server.start();
            servers.add(server);
            ports.append(' ').append(server.getAddress().getPort());
        }
        synchronized (out) {
            out.println(ports);
            out.flush();
        }
        Thread.ofPlatform().daemon(true).start(() -> {
            while (true) {
                LockSupport.parkNanos(20_000_000);
                synchronized (out) {
                    out.flush();
                }
            }
        });
        // Ends with the parent: its end of the pipe closes.
        while (System.in.read() >= 0) {
            // nothing is ever sent
        }
        servers.forEach(s -> s.stop(0));
        System.exit(0);
    }

    private static void handle(HttpExchange exchange, String name, Throttle throttle, PrintStream out,
            boolean plain) throws IOException {
        Instant arrived = Instant.now();
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            if (exchange.getRequestURI().getPath().equals(WARM_UP)) {
                exchange.sendResponseHeaders(204, -1);
                return;
            }
            String due = exchange.getRequestHeaders().getFirst("Hourglass-Due-At");
            String id = exchange.getRequestHeaders().getFirst("Hourglass-Job-Id");
            long dueMicros = due == null ? 0 : micros(Instant.parse(due));
            synchronized (out) {
                out.append("D ").append(name).append(' ').append(Long.toString(micros(arrived))).append(' ')
                        .append(Long.toString(dueMicros)).append(' ').append(id).append('\n');
            }
            throttle.await();
            if (plain) {
                exchange.sendResponseHeaders(200, OK.length);
                exchange.getResponseBody().write(OK);
            } else {
                exchange.sendResponseHeaders(204, -1);
            }
        }
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
    }
}
