package dev.hourglass.http;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.uri.UriValidationException;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import java.util.List;
import java.util.Locale;

/**
 * The answers the HTTP server gives by itself, before a request reaches the API (a request it cannot parse, headers
 * or a body over the limits, too many requests at once), as {@code application/problem+json} like every other error.
 * The server's own message is never echoed: it may quote what the client sent. Which part of the request was at fault
 * is read from that message, so each answer can name the field.
 */
final class ProtocolProblems implements DirectHandler {
    /**
     * Bytes read on this thread's connection since the last complete header section. The server does not say why
     * a header section failed to parse (too large, or malformed); too large needs at least the limit's worth of
     * bytes, so fewer mean malformed (400). A connection is read by one thread, which also answers its errors.
     */
    private final ThreadLocal<long[]> headerBytes = ThreadLocal.withInitial(() -> new long[1]);
    private final JobJson json;
    private final int maxBodyBytes;
    private final int maxHeaderBytes;

    ProtocolProblems(JobJson json, int maxBodyBytes, int maxHeaderBytes) {
        this.json = json;
        this.maxBodyBytes = maxBodyBytes;
        this.maxHeaderBytes = maxHeaderBytes;
    }

    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status defaultStatus,
            ServerResponseHeaders responseHeaders, Throwable thrown, System.Logger logger) {
        // A URI that fails validation names its part (query, path, ...) in the exception, not in the message.
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof UriValidationException invalid) {
                return answer(ApiProblem.invalid(invalid.segment().name().toLowerCase(Locale.ROOT),
                        "must be a valid URI " + invalid.segment().name().toLowerCase(Locale.ROOT)
                                + " (percent-encoded UTF-8)"), responseHeaders);
            }
        }
        return handle(request, eventType, defaultStatus, responseHeaders, thrown.getMessage());
    }

    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status defaultStatus,
            ServerResponseHeaders responseHeaders, String message) {
        return answer(problem(eventType, defaultStatus.code(), message == null ? "" : message, request),
                responseHeaders);
    }

    private TransportResponse answer(ApiProblem problem, ServerResponseHeaders responseHeaders) {
        responseHeaders.set(HeaderValues.create(HeaderNames.CONTENT_TYPE, ApiHandler.PROBLEM_JSON));
        problem.headers().forEach((name, value) -> responseHeaders.set(HeaderNames.create(name), value));
        return TransportResponse.builder()
                .status(Status.create(problem.status(), HelidonHttpCall.reason(problem.status())))
                .headers(responseHeaders)
                .entity(json.bytes(json.problem(problem)))
                // After a framing error the rest of the connection's bytes cannot be trusted.
                .keepAlive(false)
                .build();
    }

    ApiProblem problem(EventType type, int status, String message) {
        return problem(type, status, message, TransportRequest.empty());
    }

    /** 431 naming {@code headers}: they must be at most {@code limit} (bytes in all, or fields). */
    static ApiProblem headersTooLarge(String limit) {
        return ApiProblem.of(431, "headers-too-large", "Request header fields too large",
                "the request headers must be at most " + limit).withField("headers", "must be at most " + limit);
    }

    ApiProblem problem(EventType type, int status, String message, TransportRequest request) {
        String lower = message.toLowerCase(Locale.ROOT);
        if (status == 413) {
            return ApiProblem.invalid(List.of(new FieldError("body", "must be at most " + maxBodyBytes + " bytes")),
                    true);
        }
        if (status == 414 || lower.contains("prologue") && lower.contains("length")) {
            return ApiProblem.of(414, "uri-too-long", "URI too long",
                    "the request line (method, path and query) is too long")
                    .withField("path", "the request line must be shorter");
        }
        if (lower.contains("header size exceeded") || type == EventType.BAD_REQUEST && request.headers().size() == 0
                && headerBytes.get()[0] >= maxHeaderBytes) {
            return headersTooLarge(maxHeaderBytes + " bytes in all");
        }
        if (type == EventType.OTHER && status == 503) {
            return ApiProblem.of(503, "overloaded", "Service unavailable",
                    "the server is handling as many requests as it is configured to; retry shortly")
                    .withHeader("Retry-After", "1");
        }
        if (type == EventType.HTTP_VERSION_NOT_SUPPORTED) {
            return ApiProblem.of(505, "http-version-not-supported", "HTTP version not supported",
                    "only HTTP/1.1 (and HTTP/1.0) are served");
        }
        if (status >= 500) {
            return ApiProblem.of(status, "internal", "Internal server error",
                    "the request could not be completed; it may or may not have taken effect");
        }
        return ApiProblem.invalid(field(lower), rule(lower)).withStatus(status == 501 ? 501 : 400);
    }

    /** Counts what {@link #headerBytes} holds; goes in the server's HTTP/1 configuration. */
    Http1ConnectionListener headerMeter() {
        return new Http1ConnectionListener() {
            @Override
            public void data(ConnectionContext ctx, BufferData data) {
                headerBytes.get()[0] += data.available();
            }

            @Override
            public void headers(ConnectionContext ctx, Headers headers) {
                headerBytes.get()[0] = 0;
            }
        };
    }

    /** The part of the request at fault, named as a client would look for it. */
    private static String field(String message) {
        if (message.contains("content-length") || message.contains("content length")) {
            return message.contains("transfer-encoding") ? "Transfer-Encoding" : "Content-Length";
        }
        if (message.contains("transfer-encoding") || message.contains("chunk")) {
            return "Transfer-Encoding";
        }
        if (message.contains("host")) {
            return "Host";
        }
        if (message.contains("header")) {
            return "headers";
        }
        if (message.contains("query")) {
            return "query";
        }
        if (message.contains("path") || message.contains("uri") || message.contains("prologue")
                || message.contains("method")) {
            return "path";
        }
        return "request";
    }

    private static String rule(String message) {
        if (message.contains("must not be combined")) {
            return "must not be sent together with Content-Length";
        }
        return switch (field(message)) {
            case "Content-Length" -> "must be one non-negative decimal number";
            case "Transfer-Encoding" -> "must be exactly 'chunked', with a well-formed chunked body";
            case "Host" -> "must be one valid host";
            case "headers" -> "must be well-formed HTTP/1.1 header fields";
            case "query" -> "must be a valid URL query";
            case "path" -> "the request line must be 'METHOD /path HTTP/1.1' with a valid origin-form path";
            default -> "must be a well-formed HTTP/1.1 request";
        };
    }
}
