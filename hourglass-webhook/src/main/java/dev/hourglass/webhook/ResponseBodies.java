package dev.hourglass.webhook;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
 * <p>Only a body that is already complete in the client's buffer is read to its end, so that the common small answer
 * leaves its keep-alive connection reusable without waiting for a single byte more.
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

    private ResponseBodies() {}

    /** Ends the exchange of a 2xx: keeps the connection if the body is already buffered in full, else aborts it. */
    static void finishSuccess(HttpUriRequestBase request, ClassicHttpResponse response) {
        if (!readIfBuffered(response.getEntity())) {
            request.cancel();
        }
        closeQuietly(response);
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

    private static boolean readIfBuffered(HttpEntity entity) {
        if (entity == null) {
            return true;
        }
        long length = entity.getContentLength();
        if (length < 0 || length > MAX_BYTES) {
            return false;
        }
        try {
            InputStream body = entity.getContent();
            if (body.available() < length) {
                return false; // the rest is still on its way: not worth a single wait
            }
            body.readNBytes((int) length);
            return true;
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
