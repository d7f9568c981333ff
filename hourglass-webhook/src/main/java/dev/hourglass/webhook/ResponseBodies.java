package dev.hourglass.webhook;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;

/**
 * How much of a receiver's answer an attempt reads: nothing of a 2xx (its status is the whole answer), and at most
 * {@value #MAX_BYTES} bytes of any other, for the job's {@code lastError}. The rest is never read: the exchange is
 * aborted (its connection closed), because closing HttpClient's content stream would read the body to its end, and
 * a receiver can send gigabytes, or one byte a second, forever.
 *
 * <p>The attempt of a 2xx never waits for a byte of its body. A small body ({@value #MAX_BYTES} bytes at most, its
 * length announced) is read to its end so that its keep-alive connection stays reusable: at once when it is already
 * in the client's buffer, else in the background, within {@link #EXCERPT_WAIT}, while the attempt goes on (a
 * receiver that writes its headers and its body apart, such as a JDK {@code HttpServer} with Nagle's algorithm on,
 * has its body arrive tens of milliseconds after the status; closing its connection for that would make every
 * delivery to it open a new one).
 */
final class ResponseBodies {
    static final int MAX_BYTES = 4096;
    /** The longest an attempt waits for the excerpt of a failure's body; the status is recorded in any case. */
    static final Duration EXCERPT_WAIT = Duration.ofSeconds(1);

    /**
     * Aborts excerpt reads that outlast their wait. A scheduled abort of a blocking read is transport plumbing, not
     * a decision of the engine, so it runs on the executor's own clock; the attempt's timeout is the engine's.
     */
    private static final ScheduledExecutorService ABORTS = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("hourglass-webhook-body-abort").daemon(true).factory());

    /**
     * Reads the bodies of 2xx answers that are still on their way, each on a virtual thread of its own, so that the
     * attempt that received the status does not wait for them.
     */
    private static final Executor DRAINS = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("hourglass-webhook-drain-", 0).factory());

    private ResponseBodies() {}

    /**
     * Ends the exchange of a 2xx without waiting: keeps the connection if the body is small and buffered in full;
     * reads a small body that is still on its way in the background and keeps the connection if it arrives within
     * {@link #EXCERPT_WAIT}; aborts the exchange otherwise.
     */
    static void finishSuccess(HttpUriRequestBase request, ClassicHttpResponse response) {
        HttpEntity entity = response.getEntity();
        switch (bufferedState(entity)) {
            case COMPLETE -> {
                if (!readToEnd(entity)) {
                    request.cancel();
                }
                closeQuietly(response);
            }
            case ON_ITS_WAY -> DRAINS.execute(() -> {
                ScheduledFuture<?> abort = ABORTS.schedule(request::cancel, EXCERPT_WAIT.toNanos(),
                        TimeUnit.NANOSECONDS);
                boolean ended = readToEnd(entity);
                abort.cancel(false);
                if (!ended) {
                    request.cancel();
                }
                closeQuietly(response);
            });
            case TOO_LONG -> {
                request.cancel();
                closeQuietly(response);
            }
        }
    }

    /** Where a 2xx's body stands when its status arrives. */
    private enum Buffered {
        /** No body, or a small one that is all in the client's buffer. */
        COMPLETE,
        /** A small body, announced by its length, that has not all arrived. */
        ON_ITS_WAY,
        /** A body of unknown length or longer than {@value #MAX_BYTES} bytes: never read. */
        TOO_LONG
    }

    /**
     * Ends the exchange of a non-2xx: reads at most {@value #MAX_BYTES} bytes within {@code wait} and answers them as
     * text (control characters as spaces), then aborts the exchange unless the body ended within them.
     */
    static String finishFailure(HttpUriRequestBase request, ClassicHttpResponse response, Duration wait) {
        HttpEntity entity = response.getEntity();
        ByteArrayOutputStream excerpt = new ByteArrayOutputStream();
        boolean ended = entity == null;
        if (!ended) {
            ScheduledFuture<?> abort = ABORTS.schedule(request::cancel, wait.toNanos(), TimeUnit.NANOSECONDS);
            try {
                ended = readUpTo(entity.getContent(), excerpt);
            } catch (IOException | RuntimeException e) {
                ended = false; // aborted, broken off or unreadable: what arrived is kept
            } finally {
                abort.cancel(false);
            }
        }
        if (!ended) {
            request.cancel();
        }
        closeQuietly(response);
        return text(excerpt.toByteArray());
    }

    /** Reads into {@code into} until the body ends (true) or {@value #MAX_BYTES} bytes arrived (false). */
    private static boolean readUpTo(InputStream body, ByteArrayOutputStream into) throws IOException {
        byte[] buffer = new byte[MAX_BYTES];
        while (into.size() < MAX_BYTES) {
            int n = body.read(buffer, 0, MAX_BYTES - into.size());
            if (n < 0) {
                return true;
            }
            into.write(buffer, 0, n);
        }
        return false;
    }

    private static Buffered bufferedState(HttpEntity entity) {
        if (entity == null) {
            return Buffered.COMPLETE;
        }
        long length = entity.getContentLength();
        if (length < 0 || length > MAX_BYTES) {
            return Buffered.TOO_LONG;
        }
        try {
            return entity.getContent().available() < length ? Buffered.ON_ITS_WAY : Buffered.COMPLETE;
        } catch (IOException | RuntimeException e) {
            return Buffered.TOO_LONG; // unreadable: the exchange is aborted
        }
    }

    /** Reads a small body of announced length to its end; false if it broke off or could not be read. */
    private static boolean readToEnd(HttpEntity entity) {
        if (entity == null) {
            return true;
        }
        try {
            long length = entity.getContentLength();
            return entity.getContent().readNBytes((int) length).length == length;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String text(byte[] bytes) {
        StringBuilder text = new StringBuilder(new String(bytes, StandardCharsets.UTF_8));
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                text.setCharAt(i, ' ');
            }
        }
        return text.toString().strip();
    }

    /** After an abort, closing may fail on the closed connection; nothing is left to release then. */
    private static void closeQuietly(ClassicHttpResponse response) {
        try {
            response.close();
        } catch (IOException | RuntimeException e) {
            // the connection is gone either way
        }
    }
}
