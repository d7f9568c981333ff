package dev.hourglass.webhook;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * A webhook receiver on a raw socket that answers only when told, and logs, in the order they happen, each
 * connection it accepts ({@code accept}), each request that arrives ({@code request}) and each answer, logged before
 * the answer leaves ({@code answer}): a client's step that follows an answer is logged after it. Answers are
 * {@code 204}, or {@code 200} with an 11-byte body that is sent only when {@link #sendBodies} allows (its headers go at
 * once), as a receiver that writes its headers and its body apart does. Keeps connections alive.
 */
final class HeldReceiver implements AutoCloseable {
    static final String BODY = "{\"ok\":true}";

    private final ServerSocket server;
    private final boolean withBody;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<String> events = new ArrayList<>();
    private final Semaphore answers = new Semaphore(0);
    private final Semaphore bodies = new Semaphore(0);
    private final List<Socket> sockets = new ArrayList<>();

    /** @param withBody answer {@code 200} with a body sent apart from its headers, rather than {@code 204} */
    HeldReceiver(boolean withBody) {
        this.withBody = withBody;
        try {
            server = new ServerSocket(0, 1_000, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        threads.execute(this::accept);
    }

    HeldReceiver() {
        this(false);
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/hook");
    }

    /** Lets {@code n} more requests be answered, in the order they arrive. */
    void answer(int n) {
        answers.release(n);
    }

    /** Lets every request be answered, now and from now on. */
    void answerAll() {
        answer(1_000_000);
    }

    /** Lets {@code n} more answers send their bodies. */
    void sendBodies(int n) {
        bodies.release(n);
    }

    /** The log so far: {@code accept}, {@code request} and {@code answer}, in order. */
    List<String> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    long count(String event) {
        return events().stream().filter(event::equals).count();
    }

    private void log(String event) {
        synchronized (events) {
            events.add(event);
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            log("accept");
            synchronized (sockets) {
                sockets.add(socket);
            }
            threads.execute(() -> serve(socket));
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                int length = readHead(in);
                if (length < 0) {
                    return; // the client closed the connection
                }
                in.readNBytes(length);
                log("request");
                answers.acquire();
                log("answer");
                if (withBody) {
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                            + BODY.length() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    bodies.acquire();
                    out.write(BODY.getBytes(StandardCharsets.US_ASCII));
                } else {
                    out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the client or the test went away
        }
    }

    /** Reads a request's line and headers; returns its Content-Length (0 if none), or -1 at the end of the stream. */
    private static int readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4) {
            if ((b = in.read()) < 0) {
                return -1;
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        int length = 0;
        for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(lower.substring("content-length:".length()).trim());
            }
        }
        return length;
    }

    @Override
    public void close() {
        answerAll();
        sendBodies(1_000_000);
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        synchronized (sockets) {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
        threads.shutdownNow();
    }
}
