package dev.hourglass.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
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
import java.util.function.Consumer;

/**
 * A webhook receiver for tests: a JDK HttpServer on port 0 that records every delivery (path, arrival time on the
 * system clock, headers, body) and answers per path as told: a status for the n-th delivery, or hang until closed.
 */
public final class Receiver implements AutoCloseable {

    /** One request as it arrived. Header names are lower case. */
    public record Delivery(String path, long arrivedMillis, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** The answer to the n-th (1-based) delivery to a path. */
    public record Reply(int status, Map<String, String> headers, boolean hangs) {
        public static Reply status(int status) {
            return new Reply(status, Map.of(), false);
        }

        public static Reply hanging() {
            return new Reply(0, Map.of(), true);
        }
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
            Delivery delivery = new Delivery(path, arrived, headers, body);
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
            byte[] answer = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(reply.status(), answer.length);
            ex.getResponseBody().write(answer);
        }
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
