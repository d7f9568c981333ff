package dev.hourglass.webhook;

import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.model.TraceParent;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.Objects;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpPost;

/**
 * The OpenTelemetry span of each delivery attempt, in the trace of the call that scheduled the job. The span is a
 * {@code CLIENT} span named {@code POST} with the HTTP client semantic conventions ({@code http.request.method},
 * {@code server.address}, {@code server.port}, {@code url.full}, {@code http.response.status_code},
 * {@code error.type}, {@code http.request.resend_count}); its parent is the job's stored {@code traceparent}
 * ({@link JobContext#traceParent()}), so an attempt that runs hours later still sits in the caller's trace. The
 * request carries the attempt's own {@code traceparent}, so the receiver's trace continues from it.
 *
 * <p>{@code url.full} never holds a secret: user info and every query value read {@code REDACTED}, the fragment is
 * left out (a webhook URL often carries a token in its query).
 *
 * <p>Without an SDK ({@link OpenTelemetry#noop()}) nothing is built: a job with a stored context has it forwarded
 * unchanged as the request's {@code traceparent} (the receiver continues the caller's trace, one hop shorter), a job
 * without one gets no header.
 */
final class DeliveryTracing {
    /** The instrumentation scope of the attempt spans. */
    static final String SCOPE = "dev.hourglass.webhook";
    static final String TRACEPARENT = "traceparent";
    static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("hourglass.job.id");
    static final String REDACTED = "REDACTED";

    private static final TextMapSetter<HttpPost> HEADERS = (request, name, value) -> request.setHeader(name, value);

    private final Tracer tracer;
    private final boolean noop;

    DeliveryTracing(OpenTelemetry openTelemetry) {
        Objects.requireNonNull(openTelemetry, "openTelemetry");
        this.tracer = openTelemetry.getTracer(SCOPE);
        this.noop = openTelemetry == OpenTelemetry.noop();
    }

    /** Starts the span of this attempt and sets the request's {@code traceparent}; end it with the outcome. */
    AttemptSpan start(JobContext ctx, URI url, HttpPost request) {
        TraceParent parent = ctx.traceParent().orElse(null);
        if (noop) {
            if (parent != null) {
                request.setHeader(TRACEPARENT, parent.header());
            }
            return AttemptSpan.NONE;
        }
        Context parentContext = parent == null ? Context.root() : Context.root().with(Span.wrap(remote(parent)));
        SpanBuilder span = tracer.spanBuilder("POST")
                .setParent(parentContext)
                .setSpanKind(SpanKind.CLIENT)
                .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, "POST")
                .setAttribute(ServerAttributes.SERVER_ADDRESS, url.getHost())
                .setAttribute(ServerAttributes.SERVER_PORT, (long) port(url))
                .setAttribute(UrlAttributes.URL_FULL, redacted(url))
                .setAttribute(JOB_ID, ctx.id().toString());
        if (ctx.attempt() > 1) {
            // The engine's retries are resends of the one request a job stands for (semconv: each has its span).
            span.setAttribute(HttpAttributes.HTTP_REQUEST_RESEND_COUNT, (long) ctx.attempt() - 1);
        }
        Span started = span.startSpan();
        W3CTraceContextPropagator.getInstance().inject(parentContext.with(started), request, HEADERS);
        return new AttemptSpan(started);
    }

    /** The caller's span, as the remote parent of an attempt. */
    static SpanContext remote(TraceParent parent) {
        return SpanContext.createFromRemoteParent(parent.traceId(), parent.parentId(),
                TraceFlags.fromHex(parent.flags(), 0), TraceState.getDefault());
    }

    /** {@code url} without secrets: user info and query values replaced by {@value #REDACTED}, no fragment. */
    static String redacted(URI url) {
        StringBuilder full = new StringBuilder(url.getScheme()).append("://");
        String authority = Objects.requireNonNullElse(url.getRawAuthority(), "");
        int at = authority.lastIndexOf('@');
        full.append(at < 0 ? authority : REDACTED + ":" + REDACTED + authority.substring(at));
        full.append(Objects.requireNonNullElse(url.getRawPath(), ""));
        String query = url.getRawQuery();
        if (query != null) {
            full.append('?');
            String[] parameters = query.split("&", -1);
            for (int i = 0; i < parameters.length; i++) {
                int equals = parameters[i].indexOf('=');
                full.append(i == 0 ? "" : "&")
                        .append(equals < 0 ? parameters[i] : parameters[i].substring(0, equals + 1) + REDACTED);
            }
        }
        return full.toString();
    }

    private static int port(URI url) {
        return url.getPort() >= 0 ? url.getPort() : "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
    }

    /** One attempt's span: ended once, with the answer's status or the failure that stood for it. */
    static final class AttemptSpan {
        static final AttemptSpan NONE = new AttemptSpan(null);

        private final Span span;

        private AttemptSpan(Span span) {
            this.span = span;
        }

        /** The receiver answered {@code status}: 4xx and 5xx are errors of a client span, the rest are not. */
        void responded(int status) {
            if (span == null) {
                return;
            }
            span.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) status);
            if (status >= 400) {
                span.setAttribute(ErrorAttributes.ERROR_TYPE, Integer.toString(status));
                span.setStatus(StatusCode.ERROR);
            }
            span.end();
        }

        /** No answer: {@code error.type} is {@code timeout} for a timeout, else the failure's class. */
        void failed(Throwable failure) {
            if (span == null) {
                return;
            }
            span.setAttribute(ErrorAttributes.ERROR_TYPE, errorType(failure));
            span.setStatus(StatusCode.ERROR, failure.getClass().getSimpleName());
            span.recordException(failure);
            span.end();
        }

        static String errorType(Throwable failure) {
            boolean timeout = failure instanceof SocketTimeoutException || failure instanceof ConnectTimeoutException;
            return timeout ? "timeout" : failure.getClass().getName();
        }
    }
}
