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
 * @param shutdownTimeout how long requests in progress may take to finish when the server stops
 * @param limits the other limits, the timeouts and TLS
 */
public record HttpOptions(String bind, int port, int maxBodyBytes, Duration shutdownTimeout, HttpLimits limits) {

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
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(limits, "limits");
    }

    /** Plain HTTP on {@code bind:port} with the default limits. */
    public static HttpOptions of(String bind, int port) {
        return new HttpOptions(bind, port, ApiHandler.DEFAULT_MAX_BODY_BYTES, Duration.ofSeconds(2),
                HttpLimits.DEFAULTS);
    }
}
