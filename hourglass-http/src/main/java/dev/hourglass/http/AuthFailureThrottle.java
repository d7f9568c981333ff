package dev.hourglass.http;

import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Throttles guessing of API keys: each client address may fail authentication {@code failuresPerMinute} times a
 * minute; past that its requests are refused (429) before their key is looked at, until the allowance has
 * recovered enough for one more try. A rate of failures, not a lockout: one failure's allowance returns every
 * {@code 60 s / failuresPerMinute}, and requests with a valid key are never counted.
 *
 * <p>Per address it keeps one number, the time at which all its failures would have been "paid off" (the generic
 * cell rate algorithm): each failure moves it {@code 60 s / failuresPerMinute} later, and a client is refused while
 * one more failure would move it more than a minute past now. Time is the injected monotonic {@link Ticker}. At
 * most {@link #MAX_CLIENTS} addresses are tracked; past that, addresses whose failures are paid off are forgotten,
 * and if none are, new addresses go untracked (a client with that many addresses is not stopped per address anyway).
 *
 * <p>Transport-neutral: the caller names the client by its address as a string. Behind a reverse proxy every client
 * has the proxy's address, so the proxy should throttle failed authentication itself.
 */
public final class AuthFailureThrottle {
    public static final int DEFAULT_FAILURES_PER_MINUTE = 20;
    static final int MAX_CLIENTS = 10_000;
    private static final long MINUTE_NANOS = Duration.ofMinutes(1).toNanos();

    private final Ticker ticker;
    private final long costNanos;
    /** Per client address: the ticker time at which its failures are paid off. */
    private final Map<String, Long> paidOffAt = new ConcurrentHashMap<>();

    public AuthFailureThrottle(Ticker ticker, int failuresPerMinute) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        if (failuresPerMinute < 1) {
            throw new IllegalArgumentException("failuresPerMinute must be >= 1, was " + failuresPerMinute);
        }
        this.costNanos = MINUTE_NANOS / failuresPerMinute;
    }

    /** Whole seconds {@code client} must wait before its key is checked again; 0 when it may be checked now. */
    public long retryAfterSeconds(String client) {
        Long paidOff = paidOffAt.get(client);
        if (paidOff == null) {
            return 0;
        }
        long wait = paidOff + costNanos - MINUTE_NANOS - ticker.nanoTime();
        return wait <= 0 ? 0 : Math.ceilDiv(wait, 1_000_000_000L);
    }

    /** Counts a failed authentication of {@code client}. */
    public void failed(String client) {
        long now = ticker.nanoTime();
        if (paidOffAt.size() >= MAX_CLIENTS && !paidOffAt.containsKey(client)) {
            paidOffAt.values().removeIf(paidOff -> paidOff - now <= 0);
            if (paidOffAt.size() >= MAX_CLIENTS) {
                return;
            }
        }
        paidOffAt.merge(client, now + costNanos, (old, fresh) -> Math.max(old, now) + costNanos);
    }
}
