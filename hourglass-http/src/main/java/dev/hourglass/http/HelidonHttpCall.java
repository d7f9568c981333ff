package dev.hourglass.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/** An {@link HttpCall} on Helidon's WebServer. Records the status answered, for the access log. */
final class HelidonHttpCall implements HttpCall {
    private final ServerRequest request;
    private final ServerResponse response;
    private final int maxBodyBytes;
    private int status;
    private String tenant;

    HelidonHttpCall(ServerRequest request, ServerResponse response, int maxBodyBytes) {
        this.request = request;
        this.response = response;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public String method() {
        return request.prologue().method().text();
    }

    @Override
    public String rawPath() {
        return request.prologue().uriPath().rawPath();
    }

    @Override
    public String rawQuery() {
        var query = request.prologue().query();
        return query.isEmpty() ? null : query.rawValue();
    }

    @Override
    public List<String> headers(String name) {
        return request.headers().all(HeaderNames.create(name), List::of);
    }

    /**
     * The body; what goes wrong while it is read (a chunked body over the limit, broken chunk framing) surfaces as
     * the problem it is, naming {@code body}, rather than as the server's exception.
     */
    @Override
    public InputStream body() {
        return new FilterInputStream(request.content().inputStream()) {
            @Override
            public int read() throws IOException {
                try {
                    return super.read();
                } catch (RuntimeException e) {
                    throw translate(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return super.read(b, off, len);
                } catch (RuntimeException e) {
                    throw translate(e);
                }
            }
        };
    }

    private IOException translate(RuntimeException e) {
        if (e instanceof UncheckedIOException io) {
            return io.getCause();
        }
        if (e instanceof RequestException re) {
            throw (re.status().code() == 413
                    ? ApiProblem.invalid(List.of(new FieldError("body", "must be at most " + maxBodyBytes + " bytes")),
                            true)
                    : ApiProblem.invalid("body", "must be framed as its Content-Length or as well-formed chunks"))
                    .withHeader("Connection", "close").exception();
        }
        // The connection failed or the client went away mid-body: nobody is left to answer.
        return new IOException("the request body could not be read: " + e, e);
    }

    @Override
    public String clientAddress() {
        return request.remotePeer().address() instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : String.valueOf(request.remotePeer().address());
    }

    @Override
    public void respond(int status, Map<String, String> headers, byte[] body) throws IOException {
        prepare(status, headers);
        try {
            response.send(body);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void respond(int status, Map<String, String> headers, BodyWriter body) throws IOException {
        prepare(status, headers);
        try (OutputStream out = response.outputStream()) {
            body.writeTo(out);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private void prepare(int status, Map<String, String> headers) {
        this.status = status;
        response.status(Status.create(status, reason(status)));
        headers.forEach((name, value) -> response.header(HeaderNames.create(name), value));
    }

    @Override
    public void tenant(String name) {
        this.tenant = name;
    }

    @Override
    public String tenant() {
        return tenant;
    }

    /** Whether the answer said {@code Connection: close}. */
    boolean closesConnection() {
        return response.headers().containsToken(HeaderValues.CONNECTION_CLOSE);
    }

    /** The standard reason phrase; the server knows most, not all (431, for one). */
    static String reason(int status) {
        return switch (status) {
            case 413 -> "Content Too Large";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            default -> Status.create(status).reasonPhrase();
        };
    }

    /** The status answered, or 0 if none was. */
    int status() {
        return status;
    }
}
