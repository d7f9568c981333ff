package dev.hourglass.webhook;

import java.io.IOException;
import org.apache.hc.client5.http.HttpRequestRetryStrategy;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.TimeValue;

/**
 * Resends a delivery once, at once, when the receiver closed the connection without answering: the signature of a
 * pooled keep-alive connection that the receiver had closed while it sat idle (a race no pool can rule out).
 * Without this, such a delivery fails as an attempt, and a receiver that trims idle connections aggressively can
 * burn through a job's attempts in seconds, leaving it FAILED with "target server failed to respond" as every
 * attempt's reason. A resent POST may reach the receiver twice if it did process the first one before closing;
 * deliveries are at-least-once and carry the same {@code Idempotency-Key}, so that is allowed. Every other failure,
 * and every HTTP status, is left to the engine's retries with backoff.
 */
final class StaleConnectionRetry implements HttpRequestRetryStrategy {
    static final int MAX_RESENDS = 1;

    @Override
    public boolean retryRequest(HttpRequest request, IOException exception, int execCount, HttpContext context) {
        return execCount <= MAX_RESENDS && exception instanceof NoHttpResponseException;
    }

    @Override
    public boolean retryRequest(HttpResponse response, int execCount, HttpContext context) {
        return false;
    }

    @Override
    public TimeValue getRetryInterval(HttpResponse response, int execCount, HttpContext context) {
        return TimeValue.ZERO_MILLISECONDS;
    }
}
