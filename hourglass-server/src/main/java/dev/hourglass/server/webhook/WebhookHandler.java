package dev.hourglass.server.webhook;

import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.server.Rfc3339;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * Delivers a job to its webhook: one {@code POST} per attempt, the payload as the body. A 2xx answer is success;
 * any other status is a retry (after the answer's {@code Retry-After} seconds when it has one, else after the job's
 * backoff); a refused connection or a timeout is a retry with the reason in words. Response bodies are discarded
 * after at most {@value #MAX_RESPONSE_BYTES} bytes.
 *
 * <p>Each attempt runs on its own virtual thread (the engine's), and the request times out after the job's
 * timeout, so a hanging receiver holds only its own attempt. Redirects are not followed: a 3xx is a retry, and a
 * webhook never lands somewhere its owner did not name.
 *
 * <p>Every request carries {@code Hourglass-Job-Id}, {@code Hourglass-Attempt}, {@code Hourglass-Due-At} and
 * {@code Idempotency-Key: <job id>:<attempt>} so a receiver can recognise a repeated delivery (at-least-once).
 * A target's own headers cannot override them: the API refuses such targets ({@link #isReservedHeader}).
 */
public final class WebhookHandler implements JobHandler {
    /** The handler name webhook jobs are scheduled under. */
    public static final String NAME = "webhook";
    public static final String USER_AGENT = "Hourglass/0.1";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_RESPONSE_BYTES = 4096;
    /** The longest {@code Retry-After} honoured; a larger one is capped (a receiver cannot park a job for years). */
    static final Duration MAX_RETRY_AFTER = Duration.ofDays(1);

    /** Set by Hourglass on every request. */
    private static final Set<String> OWN_HEADERS =
            Set.of("hourglass-job-id", "hourglass-attempt", "hourglass-due-at", "idempotency-key");
    /** Headers the JDK client sets itself and refuses from callers. */
    private static final Set<String> TRANSPORT_HEADERS =
            Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding", "te",
                    "trailer", "keep-alive", "proxy-connection");

    private final HttpClient client;
    private final Duration defaultTimeout;
    private final Duration connectTimeout;

    /**
     * @param client the client that sends every attempt (HTTP/1.1, redirects not followed; see {@link #newClient})
     * @param connectTimeout the client's connect timeout, named in the error of a connection that timed out
     * @param defaultTimeout the timeout of an attempt whose job does not set one (the engine's default)
     */
    public WebhookHandler(HttpClient client, Duration connectTimeout, Duration defaultTimeout) {
        this.client = Objects.requireNonNull(client, "client");
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
        this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
    }

    /** The client webhooks are sent with: HTTP/1.1, a connect timeout, no redirects, virtual threads. */
    public static HttpClient newClient(Duration connectTimeout) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
    }

    /**
     * True for header names a target may not set: Hourglass's own ({@code Hourglass-*}, {@code Idempotency-Key})
     * and the transport headers the HTTP client manages ({@code Host}, {@code Content-Length}, ...).
     */
    public static boolean isReservedHeader(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.startsWith("hourglass-") || OWN_HEADERS.contains(lower) || TRANSPORT_HEADERS.contains(lower);
    }

    @Override
    public Outcome handle(JobContext ctx) throws InterruptedException {
        WebhookTarget target;
        try {
            target = WebhookTarget.fromJson(ctx.target());
        } catch (IllegalArgumentException e) {
            return Outcome.failed("invalid webhook target: " + e.getMessage()); // retrying cannot fix it
        }
        Duration timeout = ctx.job().timeout() != null ? ctx.job().timeout() : defaultTimeout;
        HttpRequest request;
        try {
            request = request(ctx, target, timeout);
        } catch (IllegalArgumentException e) {
            return Outcome.failed("invalid webhook request: " + e.getMessage());
        }
        HttpResponse<InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            return Outcome.retry("connect timed out after " + connectTimeout.toMillis() + " ms");
        } catch (HttpTimeoutException e) {
            return Outcome.retry("timed out after " + timeout.toMillis() + " ms");
        } catch (ConnectException e) {
            return Outcome.retry(connectFailure(e, target));
        } catch (IOException e) {
            return Outcome.retry("request failed: " + describe(e));
        }
        int status = response.statusCode();
        discard(response.body());
        if (status >= 200 && status < 300) {
            return Outcome.succeeded();
        }
        String reason = "HTTP " + status;
        return retryAfter(response)
                .map(after -> Outcome.retryAfter(after, reason))
                .orElseGet(() -> Outcome.retry(reason));
    }

    private static HttpRequest request(JobContext ctx, WebhookTarget target, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(target.url())
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", USER_AGENT);
        // The target's headers may replace Content-Type and User-Agent, never the reserved ones (refused at
        // schedule time; skipped here too, for a target stored by another route).
        target.headers().forEach((name, value) -> {
            if (!isReservedHeader(name)) {
                b.setHeader(name, value);
            }
        });
        return b.setHeader("Hourglass-Job-Id", ctx.id().toString())
                .setHeader("Hourglass-Attempt", Integer.toString(ctx.attempt()))
                .setHeader("Hourglass-Due-At", Rfc3339.format(ctx.dueAt()))
                .setHeader("Idempotency-Key", ctx.id() + ":" + ctx.attempt())
                .POST(HttpRequest.BodyPublishers.ofByteArray(ctx.payload()))
                .build();
    }

    /** {@code Retry-After} in delay-seconds (the HTTP-date form is not honoured: the job's backoff applies). */
    static Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").flatMap(value -> {
            String v = value.trim();
            if (v.isEmpty() || v.length() > 12 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return Optional.empty();
            }
            Duration after = Duration.ofSeconds(Long.parseLong(v));
            return Optional.of(after.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : after);
        });
    }

    /** Reads at most a few KB (so a small answer leaves the connection reusable) and closes the body. */
    private static void discard(InputStream body) {
        try (body) {
            body.readNBytes(MAX_RESPONSE_BYTES);
        } catch (IOException e) {
            // The status is what counts; a body that breaks off changes nothing.
        }
    }

    /**
     * The JDK wraps the real reason in causes: an unresolved address for an unknown host, a message for most
     * failures ("No route to host"), and for a refused connection nothing but a closed channel.
     */
    private static String connectFailure(ConnectException e, WebhookTarget target) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException) {
                return "unknown host " + target.url().getHost();
            }
            String message = t.getMessage();
            if (message != null && !message.isBlank()) {
                return message.toLowerCase(Locale.ROOT).contains("refused") ? "connection refused"
                        : "connection failed: " + message;
            }
        }
        return "connection refused";
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + message;
    }
}
