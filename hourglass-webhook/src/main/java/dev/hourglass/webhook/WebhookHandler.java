package dev.hourglass.webhook;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.RefusedAddressException;
import dev.hourglass.webhook.signing.WebhookSigner;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a job to its webhook: one {@code POST} per attempt, the payload as the body. A 2xx answer is success the
 * moment its status arrives; any other status is a retry (after the answer's {@code Retry-After} seconds when that is
 * longer than the job's backoff, else after the backoff); a refused connection or a timeout is a retry with the
 * reason in words. Of a response body at most {@value ResponseBodies#MAX_BYTES} bytes are read, and only of a
 * failure, for its {@code lastError}; the rest is never read ({@link ResponseBodies}).
 *
 * <p>Each attempt runs on its own virtual thread (the engine's), and the request times out after the job's
 * timeout, so a hanging receiver holds only its own attempt. Redirects are not followed: a 3xx is a retry, and a
 * webhook never lands somewhere its owner did not name.
 *
 * <p>Every request carries {@code Hourglass-Job-Id}, {@code Hourglass-Attempt}, {@code Hourglass-Due-At} and
 * {@code Idempotency-Key: <job id>:<attempt>} so a receiver can recognise a repeated delivery (at-least-once), and
 * the Standard Webhooks headers {@code webhook-id} (the job id), {@code webhook-timestamp} and
 * {@code webhook-signature} ({@link WebhookSigner}) so it can tell the delivery comes from this server, unchanged.
 * A target's own headers cannot override them: the API refuses such targets ({@link #isReservedHeader}).
 * A job scheduled with a W3C {@code traceparent} is delivered with one too, so the receiver's trace continues the
 * caller's; with OpenTelemetry on, each attempt is a span of that trace ({@link DeliveryTracing}).
 *
 * <p>The client only connects to addresses its {@link GuardedDnsResolver} allows: a host that resolves to
 * loopback, a private network or a metadata service (and is not allowlisted) fails the attempt before any
 * connection is made.
 *
 * <p>The client is Apache HttpClient 5 (classic, blocking I/O on the engine's virtual threads, pooled keep-alive
 * connections) rather than the JDK's {@code java.net.http.HttpClient}, whose asynchronous machinery costs more CPU
 * per delivery (docs/perf-log.md).
 */
public final class WebhookHandler implements JobHandler {
    /** The handler name webhook jobs are scheduled under. */
    public static final String NAME = "webhook";
    public static final String USER_AGENT = "Hourglass/0.1";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** The {@code target_type} of webhook jobs in the metrics. */
    public static final String TARGET_TYPE = "webhook";
    /** The longest {@code Retry-After} honoured; a larger one is capped (a receiver cannot park a job for years). */
    static final Duration MAX_RETRY_AFTER = Duration.ofDays(1);
    private static final Logger log = LoggerFactory.getLogger(WebhookHandler.class);

    /** Set by Hourglass on every request. */
    private static final Set<String> OWN_HEADERS = Set.of("hourglass-job-id", "hourglass-attempt",
            "hourglass-due-at", "idempotency-key", WebhookSigner.HEADER_ID, WebhookSigner.HEADER_TIMESTAMP,
            WebhookSigner.HEADER_SIGNATURE);
    /** Headers the JDK client sets itself and refuses from callers. */
    private static final Set<String> TRANSPORT_HEADERS =
            Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding", "te",
                    "trailer", "keep-alive", "proxy-connection");

    /** Keep-alive connections held per receiver host and in all; deliveries in flight are bounded by the engine. */
    static final int MAX_CONNECTIONS = 1_024;
    /** A pooled connection idle longer than this is checked before reuse (the receiver may have closed it). */
    static final TimeValue VALIDATE_AFTER_INACTIVITY = TimeValue.ofSeconds(2);
    static final TimeValue EVICT_IDLE_AFTER = TimeValue.ofSeconds(30);

    private final CloseableHttpClient client;
    private final Duration defaultTimeout;
    private final Duration connectTimeout;
    private final WebhookSigner signer;
    private final DeliveryTracing tracing;

    /**
     * @param client the client that sends every attempt (see {@link #newClient}: no redirects, no automatic retries,
     *     guarded addresses)
     * @param connectTimeout the client's connect timeout, named in the error of a connection that timed out
     * @param defaultTimeout the timeout of an attempt whose job does not set one (the engine's default)
     * @param signer signs every delivery with the secrets of the job's tenant
     */
    public WebhookHandler(CloseableHttpClient client, Duration connectTimeout, Duration defaultTimeout,
            WebhookSigner signer) {
        this(client, connectTimeout, defaultTimeout, signer, OpenTelemetry.noop());
    }

    /**
     * A handler that traces every attempt: a {@code CLIENT} span in the trace of the call that scheduled the job,
     * whose context the request carries as {@code traceparent} ({@link DeliveryTracing}).
     *
     * @param openTelemetry where the spans go; {@link OpenTelemetry#noop()} for none (a job's stored
     *     {@code traceparent} is then forwarded unchanged)
     */
    public WebhookHandler(CloseableHttpClient client, Duration connectTimeout, Duration defaultTimeout,
            WebhookSigner signer, OpenTelemetry openTelemetry) {
        this.tracing = new DeliveryTracing(openTelemetry);
        this.client = Objects.requireNonNull(client, "client");
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
        this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
        this.signer = Objects.requireNonNull(signer, "signer");
    }

    /**
     * The client webhooks are sent with: pooled keep-alive HTTP/1.1 connections, opened to each receiver a few at a
     * time ({@link ConnectionRamp}: a burst to one receiver must not overflow its accept queue), a connect timeout,
     * redirects not followed (a webhook never lands where its owner did not name), and no retries of its own (the
     * engine retries, with backoff and a new attempt number) except one resend on a stale pooled connection
     * ({@link StaleConnectionRetry}). Every host is resolved through {@code resolver}, which refuses blocked
     * addresses: there is no way to make this client without that guard.
     */
    public static CloseableHttpClient newClient(Duration connectTimeout, GuardedDnsResolver resolver) {
        return newClient(connectTimeout, resolver, ConnectionRamp.STALL_NANOS);
    }

    /**
     * {@link #newClient(Duration, GuardedDnsResolver)} whose new connections to a receiver count as opening for at
     * most {@code rampStallNanos} ({@link ConnectionRamp}; tests make it long, to see the ramp without its stalls).
     */
    static CloseableHttpClient newClient(Duration connectTimeout, GuardedDnsResolver resolver, long rampStallNanos) {
        ConnectionConfig connections = ConnectionConfig.custom()
                .setConnectTimeout(Timeout.of(connectTimeout))
                .setValidateAfterInactivity(VALIDATE_AFTER_INACTIVITY)
                .build();
        ConnectionRamp ramp = new ConnectionRamp(PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(MAX_CONNECTIONS)
                .setMaxConnPerRoute(MAX_CONNECTIONS)
                .setDefaultConnectionConfig(connections)
                .setDnsResolver(Objects.requireNonNull(resolver, "resolver"))
                .build(), ConnectionRamp.OPENING, rampStallNanos);
        return HttpClients.custom()
                .setConnectionManager(ramp)
                .addExecInterceptorAfter(ChainElement.CONNECT.name(), "hourglass-connection-ramp", ramp.interceptor())
                .disableRedirectHandling()
                .setRetryStrategy(new StaleConnectionRetry())
                .disableCookieManagement()
                .evictIdleConnections(EVICT_IDLE_AFTER)
                .build();
    }

    /**
     * True for header names a target may not set: Hourglass's own ({@code Hourglass-*}, {@code Idempotency-Key},
     * the Standard Webhooks {@code webhook-id}, {@code webhook-timestamp}, {@code webhook-signature})
     * and the transport headers the HTTP client manages ({@code Host}, {@code Content-Length}, ...).
     */
    public static boolean isReservedHeader(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.startsWith("hourglass-") || OWN_HEADERS.contains(lower) || TRANSPORT_HEADERS.contains(lower);
    }

    /** This handler reports each attempt itself, with its HTTP status and how it failed. */
    @Override
    public boolean reportsDeliveries() {
        return true;
    }

    @Override
    public String targetType() {
        return TARGET_TYPE;
    }

    /** The receiver's origin ({@code https://host:443}): what the delivery history names and the monitor watches. */
    @Override
    public String targetOf(Job job) {
        return WebhookTarget.fromJson(job.target()).origin();
    }

    @Override
    public Outcome handle(JobContext ctx) throws InterruptedException {
        Attempt attempt = deliver(ctx);
        logged(attempt);
        // An interrupted attempt (the engine's watchdog, at the job's timeout) throws before this: the engine
        // records it as a timeout.
        ctx.report(attempt.result(), attempt.status());
        return attempt.outcome();
    }

    /** An attempt's outcome for the engine, and for its report how it ended and the status (0: none). */
    private record Attempt(Outcome outcome, DeliveryAttempt.Result result, int status) {
        static Attempt retry(String reason, DeliveryAttempt.Result result) {
            return new Attempt(Outcome.retry(reason), result, 0);
        }
    }

    /**
     * Logs a failed delivery (INFO) with its reason, a delivered one at DEBUG. Called on the attempt's thread, so the
     * line carries the job's log context (job id, tenant, attempt).
     */
    private static void logged(Attempt attempt) {
        switch (attempt.outcome()) {
            case Outcome.Retry r -> log.info("webhook delivery failed: {}",
                    loggedReason(r.reason(), attempt.status()));
            case Outcome.Failed f -> log.info("webhook delivery failed, not retryable: {}",
                    loggedReason(f.reason(), attempt.status()));
            case Outcome.Succeeded s -> log.debug("webhook delivered");
            case Outcome.Cancelled c -> { }
        }
    }

    /**
     * The reason a failed delivery is logged with: of a failure status, only the status, never the excerpt of the
     * receiver's answer that the outcome carries (kept in the job's {@code lastError}, for its tenant).
     *
     * @param status the failure status, or 0 when the receiver answered none
     */
    static String loggedReason(String reason, int status) {
        return status != 0 ? "HTTP " + status : reason;
    }

    private Attempt deliver(JobContext ctx) throws InterruptedException {
        WebhookTarget target;
        try {
            target = WebhookTarget.fromJson(ctx.target());
        } catch (IllegalArgumentException e) {
            // Retrying cannot fix it.
            return new Attempt(Outcome.failed("invalid webhook target: " + e.getMessage()),
                    DeliveryAttempt.Result.HANDLER_ERROR, 0);
        }
        Duration timeout = ctx.job().timeout() != null ? ctx.job().timeout() : defaultTimeout;
        HttpPost request;
        try {
            request = request(ctx, target, timeout);
        } catch (IllegalArgumentException e) {
            return new Attempt(Outcome.failed("invalid webhook request: " + e.getMessage()),
                    DeliveryAttempt.Result.HANDLER_ERROR, 0);
        }
        try {
            ClassicHttpResponse response = execute(request, tracing.start(ctx, target.url(), request));
            int status = response.getCode();
            if (status >= 200 && status < 300) {
                ResponseBodies.finishSuccess(request, response);
                return new Attempt(Outcome.succeeded(), DeliveryAttempt.Result.SUCCESS, status);
            }
            Optional<Duration> after = retryAfter(response.getFirstHeader("Retry-After"));
            Duration wait = timeout.compareTo(ResponseBodies.EXCERPT_WAIT) < 0 ? timeout : ResponseBodies.EXCERPT_WAIT;
            String excerpt = ResponseBodies.finishFailure(request, response, wait);
            String reason = "HTTP " + status + (excerpt.isEmpty() ? "" : ": " + excerpt);
            // A receiver may ask for a longer wait than the backoff, never a shorter one: "Retry-After: 0" must not
            // turn the retries into a busy loop against it.
            Outcome retry = after.map(a -> Outcome.retryAfter(atLeastBackoff(a, ctx), reason))
                    .orElseGet(() -> Outcome.retry(reason));
            return new Attempt(retry, DeliveryAttempt.Result.HTTP_ERROR, status);
        } catch (ConnectTimeoutException e) {
            return Attempt.retry("connect timed out after " + connectTimeout.toMillis() + " ms",
                    DeliveryAttempt.Result.CONNECT_ERROR);
        } catch (SocketTimeoutException e) {
            return Attempt.retry("timed out after " + timeout.toMillis() + " ms", DeliveryAttempt.Result.TIMEOUT);
        } catch (ConnectException e) {
            return Attempt.retry(connectFailure(e), DeliveryAttempt.Result.CONNECT_ERROR);
        } catch (RefusedAddressException e) {
            // A failed attempt like an unknown host: DNS may change back, and the operator may allowlist it.
            return Attempt.retry("refused: " + e.refusal().describe() + ", not in the webhook allowlist",
                    DeliveryAttempt.Result.REFUSED);
        } catch (UnknownHostException e) {
            return Attempt.retry("unknown host " + target.url().getHost(), DeliveryAttempt.Result.CONNECT_ERROR);
        } catch (InterruptedIOException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("webhook delivery interrupted");
            }
            return Attempt.retry("request failed: " + describe(e), DeliveryAttempt.Result.CONNECT_ERROR);
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) {
                // The engine's watchdog interrupted the attempt at the job's timeout, and the socket was closed
                // under the read: a timeout, not a connection failure.
                throw new InterruptedException("webhook delivery interrupted");
            }
            return Attempt.retry("request failed: " + describe(e), DeliveryAttempt.Result.CONNECT_ERROR);
        }
    }

    /** Sends the request; the attempt's span ends when the status arrives, or with the failure. */
    private ClassicHttpResponse execute(HttpPost request, DeliveryTracing.AttemptSpan span) throws IOException {
        try {
            ClassicHttpResponse response = client.executeOpen(null, request, null);
            span.responded(response.getCode());
            return response;
        } catch (IOException | RuntimeException e) {
            span.failed(e);
            throw e;
        }
    }

    private HttpPost request(JobContext ctx, WebhookTarget target, Duration timeout) {
        HttpPost post = new HttpPost(target.url());
        // The response timeout bounds each wait for bytes from the receiver; the engine's watchdog interrupts the
        // attempt at the job's timeout in any case, so a receiver that trickles cannot hold it longer.
        post.setConfig(RequestConfig.custom()
                .setResponseTimeout(Timeout.of(timeout.toMillis(), TimeUnit.MILLISECONDS))
                .build());
        post.setHeader("Content-Type", "application/json");
        post.setHeader("User-Agent", USER_AGENT);
        // The target's headers may replace Content-Type and User-Agent, never the reserved ones (refused at
        // schedule time; skipped here too, for a target stored by another route).
        target.headers().forEach((name, value) -> {
            if (!isReservedHeader(name)) {
                post.setHeader(name, value);
            }
        });
        post.setHeader("Hourglass-Job-Id", ctx.id().toString());
        post.setHeader("Hourglass-Attempt", Integer.toString(ctx.attempt()));
        post.setHeader("Hourglass-Due-At", Rfc3339.format(ctx.dueAt()));
        // A run of a recurring schedule: which schedule, and the time it named (the due time may add jitter).
        ctx.scheduledRun().ifPresent(run -> {
            post.setHeader("Hourglass-Schedule-Id", run.scheduleId());
            post.setHeader("Hourglass-Scheduled-Time", Rfc3339.format(run.nominalAt()));
        });
        post.setHeader("Idempotency-Key", ctx.id() + ":" + ctx.attempt());
        // webhook-id is the job id, the same for every attempt: the spec's message id, which receivers dedupe on.
        WebhookSigner.SignedHeaders signed = signer.sign(ctx.tenant(), ctx.id().toString(), ctx.payload());
        post.setHeader(WebhookSigner.HEADER_ID, signed.id());
        post.setHeader(WebhookSigner.HEADER_TIMESTAMP, Long.toString(signed.timestamp()));
        post.setHeader(WebhookSigner.HEADER_SIGNATURE, signed.signature());
        post.setEntity(new ByteArrayEntity(ctx.payload(), null)); // Content-Type comes from the header above
        return post;
    }

    /** {@code Retry-After} in delay-seconds (the HTTP-date form is not honoured: the job's backoff applies). */
    static Optional<Duration> retryAfter(Header header) {
        return Optional.ofNullable(header).map(Header::getValue).flatMap(value -> {
            String v = value.trim();
            if (v.isEmpty() || v.length() > 12 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return Optional.empty();
            }
            Duration after = Duration.ofSeconds(Long.parseLong(v));
            return Optional.of(after.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : after);
        });
    }

    /** {@code after}, or the job's backoff delay before the next attempt when that is longer. */
    static Duration atLeastBackoff(Duration after, JobContext ctx) {
        Duration backoff = ctx.job().backoff().delayAfter(ctx.attempt(), ThreadLocalRandom.current().nextDouble());
        return after.compareTo(backoff) >= 0 ? after : backoff;
    }

    /** "connection refused", or the reason the connection failed in the client's words. */
    private static String connectFailure(ConnectException e) {
        String message = e.getMessage();
        if (message == null || message.isBlank() || message.toLowerCase(Locale.ROOT).contains("refused")) {
            return "connection refused";
        }
        return "connection failed: " + message;
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + message;
    }
}
