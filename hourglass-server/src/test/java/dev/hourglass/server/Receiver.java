package dev.hourglass.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A webhook receiver for tests: a JDK HttpServer on port 0 that records every delivery (path, arrival time on the
 * system clock, headers, body) and answers per path as told: a status for the n-th delivery, or hang until closed.
 */
public final class Receiver implements AutoCloseable {

    /** One request as it arrived, over a connection from {@code clientPort}. Header names are lower case. */
    public record Delivery(String path, long arrivedMillis, Map<String, String> headers, String body,
            int clientPort) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /**
     * The answer to the n-th (1-based) delivery to a path. {@code body} writes the response body (chunked) when
     * given; else the body is {@code {"ok":true}}.
     */
    public record Reply(int status, Map<String, String> headers, boolean hangs, BodyWriter body) {
        public Reply(int status, Map<String, String> headers, boolean hangs) {
            this(status, headers, hangs, null);
        }

        public static Reply status(int status) {
            return new Reply(status, Map.of(), false);
        }

        public static Reply hanging() {
            return new Reply(0, Map.of(), true);
        }

        /** {@code status} with a body as long as the client reads it: the same byte, over and over. */
        public static Reply endless(int status) {
            return new Reply(status, Map.of(), false, out -> {
                byte[] block = new byte[64 * 1024];
                Arrays.fill(block, (byte) 'x');
                while (true) {
                    out.write(block);
                }
            });
        }

        /** {@code status} with a body that trickles: one byte every {@code every}, for {@code bytes} bytes. */
        public static Reply trickling(int status, int bytes, Duration every) {
            return new Reply(status, Map.of(), false, out -> {
                for (int i = 0; i < bytes; i++) {
                    out.write('y');
                    out.flush();
                    try {
                        Thread.sleep(every);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }
    }

    /** Writes a response body; an IOException (the client went away) ends it. */
    @FunctionalInterface
    public interface BodyWriter {
        void write(OutputStream out) throws IOException;
    }

    @FunctionalInterface
    public interface Script {
        Reply reply(int nth);
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private final Map<String, Script> scripts = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile Consumer<Delivery> onArrival = d -> {};
    private final AtomicLong bodyBytes = new AtomicLong();

    public Receiver() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Answers deliveries to {@code path} by script; unscripted paths answer 200. */
    public Receiver on(String path, Script script) {
        scripts.put(path, script);
        return this;
    }

    /**
     * Calls {@code observer} with every delivery as it arrives, on the request's thread, before it is answered (so
     * while the sender still waits: a scheduler's job is still RUNNING then).
     */
    public Receiver onArrival(Consumer<Delivery> observer) {
        onArrival = observer;
        return this;
    }

    public URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    public List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    public List<Delivery> deliveries(String path) {
        return deliveries.stream().filter(d -> d.path().equals(path)).toList();
    }

    private void handle(HttpExchange ex) throws IOException {
        long arrived = System.currentTimeMillis();
        try (ex) {
            String path = ex.getRequestURI().getPath();
            Map<String, String> headers = new TreeMap<>();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.getFirst()));
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Delivery delivery = new Delivery(path, arrived, headers, body, ex.getRemoteAddress().getPort());
            deliveries.add(delivery);
            onArrival.accept(delivery);
            int nth = counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            Reply reply = scripts.getOrDefault(path, n -> Reply.status(200)).reply(nth);
            if (reply.hangs()) {
                try {
                    closing.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            reply.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            if (reply.body() != null) {
                ex.sendResponseHeaders(reply.status(), 0);
                bodyBytes.set(0);
                try {
                    reply.body().write(new CountingStream(ex.getResponseBody()));
                } catch (IOException e) {
                    // the client aborted the exchange
                }
                return;
            }
            byte[] answer = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(reply.status(), answer.length);
            ex.getResponseBody().write(answer);
        }
    }

    /** Bytes of the latest streamed body that the client took (written to its connection). */
    public long bodyBytesSent() {
        return bodyBytes.get();
    }

    private final class CountingStream extends FilterOutputStream {
        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            bodyBytes.addAndGet(len);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            bodyBytes.incrementAndGet();
        }
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
