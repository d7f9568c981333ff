package dev.hourglass.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

/** An {@link HttpCall} on the JDK's {@code com.sun.net.httpserver}. */
public final class JdkHttpCall implements HttpCall {
    private final HttpExchange exchange;

    private JdkHttpCall(HttpExchange exchange) {
        this.exchange = exchange;
    }

    /** A JDK server handler that hands each exchange to {@code api}. */
    public static HttpHandler handlerFor(ApiHandler api) {
        return exchange -> {
            try (exchange) {
                api.handle(new JdkHttpCall(exchange));
            }
        };
    }

    @Override
    public String method() {
        return exchange.getRequestMethod();
    }

    @Override
    public String rawPath() {
        return exchange.getRequestURI().getRawPath();
    }

    @Override
    public String rawQuery() {
        return exchange.getRequestURI().getRawQuery();
    }

    @Override
    public List<String> headers(String name) {
        List<String> values = exchange.getRequestHeaders().get(name);
        return values == null ? List.of() : values;
    }

    @Override
    public InputStream body() {
        return exchange.getRequestBody();
    }

    @Override
    public String clientAddress() {
        return exchange.getRemoteAddress().getAddress().getHostAddress();
    }

    @Override
    public void respond(int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach(exchange.getResponseHeaders()::set);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void respond(int status, Map<String, String> headers, BodyWriter body) throws IOException {
        headers.forEach(exchange.getResponseHeaders()::set);
        exchange.sendResponseHeaders(status, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            body.writeTo(out);
        }
    }
}
