package dev.hourglass.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

/**
 * One HTTP request and its answer, as the API handlers see them: what they read of the request, and the two ways
 * they answer. It keeps the handlers free of any particular HTTP server; each server has an adapter.
 *
 * <p>Header names are matched without regard to case. A call is answered once: after {@code respond}, nothing more
 * may be written.
 */
public interface HttpCall {
    /** The request method, as sent (e.g. {@code GET}). */
    String method();

    /** The request path, not decoded (e.g. {@code /v1/jobs/0190...}). */
    String rawPath();

    /** The query string, not decoded and without {@code ?}; null when the request has none. */
    String rawQuery();

    /** The first value of the request header {@code name}, or null when absent. */
    default String header(String name) {
        List<String> values = headers(name);
        return values.isEmpty() ? null : values.getFirst();
    }

    /** Every value of the request header {@code name}, in order; empty when absent. */
    List<String> headers(String name);

    /** The request body; the caller reads at most as much as it accepts. */
    InputStream body() throws IOException;

    /** The client's address, as text (e.g. {@code 127.0.0.1}). */
    String clientAddress();

    /** Records which tenant the call acts for, once its key is known (for the access log). */
    default void tenant(String name) {}

    /** The tenant recorded, or null. */
    default String tenant() {
        return null;
    }

    /**
     * Answers with a body of known length.
     *
     * @param headers response headers (including {@code Content-Type}), by their canonical names
     * @param body the body; empty for none
     */
    void respond(int status, Map<String, String> headers, byte[] body) throws IOException;

    /** Answers with a body written as it is produced, of a length not known in advance. */
    void respond(int status, Map<String, String> headers, BodyWriter body) throws IOException;

    /** Writes a response body to the client's stream; the stream is closed by the transport afterwards. */
    @FunctionalInterface
    interface BodyWriter {
        void writeTo(OutputStream out) throws IOException;
    }
}
