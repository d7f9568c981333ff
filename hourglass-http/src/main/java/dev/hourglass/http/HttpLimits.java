package dev.hourglass.http;

import java.time.Duration;
import java.util.Objects;

/**
 * What the HTTP server lets clients cost, and whether it speaks TLS (see {@link HttpOptions} for each limit's answer).
 *
 * @param maxHeaderBytes the most bytes of request header fields, in all
 * @param maxHeaders the most request header fields
 * @param maxConnections the most open connections
 * @param maxConcurrentRequests the most requests handled at once
 * @param idleTimeout how long a connection may stay open with no request before it is closed
 * @param readTimeout how long the server waits for the next bytes of a request it is reading
 * @param tls the PEM certificate chain and key to serve HTTPS with, or null for plain HTTP
 */
public record HttpLimits(
        int maxHeaderBytes,
        int maxHeaders,
        int maxConnections,
        int maxConcurrentRequests,
        Duration idleTimeout,
        Duration readTimeout,
        HttpOptions.TlsFiles tls) {

    public static final HttpLimits DEFAULTS = new HttpLimits(HttpOptions.DEFAULT_MAX_HEADER_BYTES,
            HttpOptions.DEFAULT_MAX_HEADERS, HttpOptions.DEFAULT_MAX_CONNECTIONS,
            HttpOptions.DEFAULT_MAX_CONCURRENT_REQUESTS, HttpOptions.DEFAULT_IDLE_TIMEOUT,
            HttpOptions.DEFAULT_READ_TIMEOUT, null);

    public HttpLimits {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
    }

    public HttpLimits withMaxConnections(int value) {
        return new HttpLimits(maxHeaderBytes, maxHeaders, value, maxConcurrentRequests, idleTimeout, readTimeout, tls);
    }

    public HttpLimits withMaxConcurrentRequests(int value) {
        return new HttpLimits(maxHeaderBytes, maxHeaders, maxConnections, value, idleTimeout, readTimeout, tls);
    }

    public HttpLimits withHeaders(int bytes, int count) {
        return new HttpLimits(bytes, count, maxConnections, maxConcurrentRequests, idleTimeout, readTimeout, tls);
    }

    public HttpLimits withTimeouts(Duration idle, Duration read) {
        return new HttpLimits(maxHeaderBytes, maxHeaders, maxConnections, maxConcurrentRequests, idle, read, tls);
    }

    public HttpLimits withTls(HttpOptions.TlsFiles value) {
        return new HttpLimits(maxHeaderBytes, maxHeaders, maxConnections, maxConcurrentRequests, idleTimeout,
                readTimeout, value);
    }
}
