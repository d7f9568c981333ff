package dev.hourglass.http;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the API's HTTP server listens and what it lets one client cost. Each limit is answered with a problem:
 * headers over {@code maxHeaderBytes} or more than {@code maxHeaders} of them with 431, a body over
 * {@code maxBodyBytes} with 413, a request beyond {@code maxConcurrentRequests} with 503 and {@code Retry-After}.
 * Connections beyond {@code maxConnections} wait to be accepted until another closes.
 *
 * @param bind the address to listen on
 * @param port the port; 0 picks a free one
 * @param maxBodyBytes the largest request body
 * @param maxHeaderBytes the most bytes of request header fields, in all
 * @param maxHeaders the most request header fields
 * @param maxConnections the most open connections
 * @param maxConcurrentRequests the most requests handled at once
 * @param idleTimeout how long a connection may stay open with no request before it is closed
 * @param readTimeout how long the server waits for the next bytes of a request it is reading
 * @param shutdownTimeout how long requests in progress may take to finish when the server stops
 * @param tls the certificate chain and private key to serve HTTPS with, or null for plain HTTP
 */
public record HttpOptions(
        String bind,
        int port,
        int maxBodyBytes,
        int maxHeaderBytes,
        int maxHeaders,
        int maxConnections,
        int maxConcurrentRequests,
        Duration idleTimeout,
        Duration readTimeout,
        Duration shutdownTimeout,
        TlsFiles tls) {

    public static final int DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
    public static final int DEFAULT_MAX_HEADERS = 100;
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 1_000;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);

    /** PEM files: the certificate chain (server certificate first) and its unencrypted private key (PKCS#8). */
    public record TlsFiles(Path certificateChain, Path privateKey) {
        public TlsFiles {
            Objects.requireNonNull(certificateChain, "certificateChain");
            Objects.requireNonNull(privateKey, "privateKey");
        }
    }

    public HttpOptions {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
    }

    /** Plain HTTP on {@code bind:port} with the default limits. */
    public static HttpOptions of(String bind, int port) {
        return new HttpOptions(bind, port, ApiHandler.DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES,
                DEFAULT_MAX_HEADERS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_IDLE_TIMEOUT,
                DEFAULT_READ_TIMEOUT, Duration.ofSeconds(2), null);
    }

    public HttpOptions withMaxBodyBytes(int value) {
        return new HttpOptions(bind, port, value, maxHeaderBytes, maxHeaders, maxConnections, maxConcurrentRequests,
                idleTimeout, readTimeout, shutdownTimeout, tls);
    }

    public HttpOptions withHeaderLimits(int bytes, int count) {
        return new HttpOptions(bind, port, maxBodyBytes, bytes, count, maxConnections, maxConcurrentRequests,
                idleTimeout, readTimeout, shutdownTimeout, tls);
    }

    public HttpOptions withMaxConnections(int value) {
        return new HttpOptions(bind, port, maxBodyBytes, maxHeaderBytes, maxHeaders, value, maxConcurrentRequests,
                idleTimeout, readTimeout, shutdownTimeout, tls);
    }

    public HttpOptions withMaxConcurrentRequests(int value) {
        return new HttpOptions(bind, port, maxBodyBytes, maxHeaderBytes, maxHeaders, maxConnections, value,
                idleTimeout, readTimeout, shutdownTimeout, tls);
    }

    public HttpOptions withTimeouts(Duration idle, Duration read, Duration shutdown) {
        return new HttpOptions(bind, port, maxBodyBytes, maxHeaderBytes, maxHeaders, maxConnections,
                maxConcurrentRequests, idle, read, shutdown, tls);
    }

    public HttpOptions withTls(TlsFiles value) {
        return new HttpOptions(bind, port, maxBodyBytes, maxHeaderBytes, maxHeaders, maxConnections,
                maxConcurrentRequests, idleTimeout, readTimeout, shutdownTimeout, value);
    }
}
