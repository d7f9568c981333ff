package dev.hourglass.server;

import dev.hourglass.http.HttpOptions;
import java.time.Duration;
import java.util.Objects;

/**
 * What the HTTP server lets clients cost, and whether it speaks TLS (see {@link HttpOptions} for each limit's answer).
 *
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

    /** Refuses limits that could not serve a single request. */
    void check() {
        positive("maxHeaderBytes", maxHeaderBytes);
        positive("maxHeaders", maxHeaders);
        positive("maxConnections", maxConnections);
        positive("maxConcurrentRequests", maxConcurrentRequests);
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new StartupException("idleTimeout must be > 0, was " + idleTimeout);
        }
        if (readTimeout.isNegative() || readTimeout.isZero()) {
            throw new StartupException("readTimeout must be > 0, was " + readTimeout);
        }
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new StartupException(name + " must be >= 1, was " + value);
        }
    }
}
