package dev.hourglass.http;

import dev.hourglass.core.model.TraceParent;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The OpenTelemetry {@code SERVER} span of a {@code POST /v1/jobs} call, child of the caller's {@code traceparent}.
 * Its context is what the job keeps: every delivery attempt, however late, is a child of this span, so a trace reads
 * caller → schedule → attempt(s) → receiver. Without an SDK ({@link OpenTelemetry#noop()}) no span is made and the
 * job keeps the caller's {@code traceparent} as it came.
 */
final class ScheduleTracing {
    static final String SCOPE = "dev.hourglass.http";
    static final String ROUTE = "/v1/jobs";

    private final Tracer tracer;
    private final boolean noop;

    ScheduleTracing(OpenTelemetry openTelemetry) {
        Objects.requireNonNull(openTelemetry, "openTelemetry");
        this.tracer = openTelemetry.getTracer(SCOPE);
        this.noop = openTelemetry == OpenTelemetry.noop();
    }

    /** Starts the span of one schedule call whose {@code traceparent} was {@code caller} (null: none or invalid). */
    ScheduleSpan start(TraceParent caller) {
        if (noop) {
            return new ScheduleSpan(null, caller);
        }
        Context parent = caller == null ? Context.root() : Context.root().with(Span.wrap(remote(caller)));
        Span span = tracer.spanBuilder("POST " + ROUTE)
                .setParent(parent)
                .setSpanKind(SpanKind.SERVER)
                .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, "POST")
                .setAttribute(HttpAttributes.HTTP_ROUTE, ROUTE)
                .setAttribute(UrlAttributes.URL_PATH, ROUTE)
                .startSpan();
        SpanContext context = span.getSpanContext();
        TraceParent kept = context.isValid() ? new TraceParent("00-" + context.getTraceId() + "-"
                + context.getSpanId() + "-" + context.getTraceFlags().asHex()) : caller;
        return new ScheduleSpan(span, kept);
    }

    private static SpanContext remote(TraceParent parent) {
        return SpanContext.createFromRemoteParent(parent.traceId(), parent.parentId(),
                TraceFlags.fromHex(parent.flags(), 0), TraceState.getDefault());
    }

    /**
     * One schedule call's span, ended once with its answer.
     *
     * @param traceParent the context the job keeps: this span's, or the caller's when there is no span
     */
    record ScheduleSpan(Span span, TraceParent traceParent) {

        /**
         * The call was answered {@code status} (0: the client went away before its answer); for a server span only
         * a 5xx is an error.
         */
        void answered(int status) {
            if (span == null) {
                return;
            }
            if (status > 0) {
                span.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) status);
            }
            if (status >= 500) {
                span.setAttribute(ErrorAttributes.ERROR_TYPE, Integer.toString(status));
                span.setStatus(StatusCode.ERROR);
            }
            span.end();
        }
    }

    /**
     * A schedule call as the handler answers it: every method goes to {@code call}; it also holds the context the
     * job keeps and records the status the call was answered.
     */
    static final class TracedCall implements HttpCall {
        private final HttpCall call;
        private final TraceParent traceParent;
        private volatile int status;

        TracedCall(HttpCall call, TraceParent traceParent) {
            this.call = call;
            this.traceParent = traceParent;
        }

        /** The context the job keeps, or null. */
        TraceParent traceParent() {
            return traceParent;
        }

        /** The status answered, 0 before an answer. */
        int status() {
            return status;
        }

        @Override
        public String method() {
            return call.method();
        }

        @Override
        public String rawPath() {
            return call.rawPath();
        }

        @Override
        public String rawQuery() {
            return call.rawQuery();
        }

        @Override
        public String header(String name) {
            return call.header(name);
        }

        @Override
        public List<String> headers(String name) {
            return call.headers(name);
        }

        @Override
        public InputStream body() throws IOException {
            return call.body();
        }

        @Override
        public String clientAddress() {
            return call.clientAddress();
        }

        @Override
        public void tenant(String name) {
            call.tenant(name);
        }

        @Override
        public String tenant() {
            return call.tenant();
        }

        @Override
        public void respond(int status, Map<String, String> headers, byte[] body) throws IOException {
            this.status = status;
            call.respond(status, headers, body);
        }

        @Override
        public void respond(int status, Map<String, String> headers, BodyWriter body) throws IOException {
            this.status = status;
            call.respond(status, headers, body);
        }
    }
}
