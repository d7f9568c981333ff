package dev.hourglass.http;

import dev.hourglass.core.time.Ticker;
import io.helidon.common.configurable.Resource;
import io.helidon.common.pki.Keys;
import io.helidon.common.tls.Tls;
import io.helidon.http.DirectHandler.EventType;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionConfig;
import io.helidon.webserver.ErrorHandling;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API on Helidon's WebServer: one listener, the limits of {@link HttpOptions}, optional TLS, every error
 * (the server's own included) as {@code application/problem+json}, and an access log. Requests run on virtual
 * threads, so a request may block (a schedule waits for its group commit) without holding a platform thread.
 *
 * <p>The access log ({@value #ACCESS_LOG}, INFO) has one line per request: method, route template
 * ({@link PathTemplate}, never an id or a tenant name from the path), status, duration in milliseconds, tenant.
 * It never holds a header, query or body: keys cannot reach it.
 */
public final class ApiServer implements AutoCloseable {
    public static final String ACCESS_LOG = "dev.hourglass.access";
    private static final Logger access = LoggerFactory.getLogger(ACCESS_LOG);
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

    private final boolean tls;
    private final AtomicReference<ApiHandler> api = new AtomicReference<>();
    /** Open once {@link #serve} or {@link #close} is called: requests that arrive while the service starts wait. */
    private final CountDownLatch started = new CountDownLatch(1);
    private WebServer server;

    private ApiServer(boolean tls) {
        this.tls = tls;
    }

    /**
     * Binds and accepts connections; a request that arrives before {@link #serve} waits for it (as it would in the
     * listen backlog) up to the read timeout, then is answered 503 with {@code Retry-After}. The port is taken first,
     * so that a port in use is reported before anything else opens.
     *
     * @param ticker measures each request's duration for the access log
     * @throws UncheckedIOException when the port cannot be bound (a {@link java.net.BindException} in its causes)
     * @throws IllegalStateException when the TLS files cannot be read
     */
    public static ApiServer bind(HttpOptions options, Ticker ticker) {
        HttpLimits limits = options.limits();
        ApiServer apiServer = new ApiServer(limits.tls() != null);
        JobJson json = new JobJson(JobJson.newMapper());
        ProtocolProblems problems = new ProtocolProblems(json, options.maxBodyBytes(), limits.maxHeaderBytes());
        DirectHandlers.Builder direct = DirectHandlers.builder();
        for (EventType type : EventType.values()) {
            direct.addHandler(type, problems);
        }
        var builder = WebServer.builder()
                .host(options.bind())
                .port(options.port())
                .backlog(1024)
                .shutdownHook(false)
                .maxPayloadSize(options.maxBodyBytes())
                .maxTcpConnections(limits.maxConnections())
                .maxConcurrentRequests(limits.maxConcurrentRequests())
                .idleConnectionTimeout(limits.idleTimeout())
                .idleConnectionPeriod(limits.idleTimeout().dividedBy(4).isZero() ? limits.idleTimeout()
                        : limits.idleTimeout().dividedBy(4))
                .shutdownGracePeriod(options.shutdownTimeout())
                .connectionConfig(ConnectionConfig.builder()
                        .readTimeout(limits.readTimeout())
                        // One response is one write, but a client's delayed ACK must never hold the next one.
                        .tcpNoDelay(true)
                        .build())
                .addProtocol(Http1Config.builder()
                        .maxHeadersSize(limits.maxHeaderBytes())
                        .sendLog(false)
                        .receiveLog(false)
                        .addReceiveListener(problems.headerMeter())
                        .build())
                // Lets the server pass its own reason for a refusal to ProtocolProblems (never to the client).
                .errorHandling(ErrorHandling.builder().includeEntity(true).build())
                .directHandlers(direct.build())
                .routing(routing(apiServer, options, problems, json, ticker));
        if (limits.tls() != null) {
            builder.tls(tls(limits.tls()));
        }
        apiServer.server = builder.build().start();
        if (!apiServer.server.isRunning()) {
            // The server logs why it could not start and returns; the reason a caller needs is found again here.
            throw cannotListen(options);
        }
        return apiServer;
    }

    private static RuntimeException cannotListen(HttpOptions options) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(options.bind(), options.port()));
        } catch (IOException e) {
            return new UncheckedIOException(e);
        }
        return new IllegalStateException("cannot listen on " + options.bind() + ":" + options.port());
    }

    /** Hands every request from now on to {@code handler}. */
    public ApiServer serve(ApiHandler handler) {
        api.set(Objects.requireNonNull(handler, "handler"));
        started.countDown();
        return this;
    }

    /** The handler, once there is one; null if none came within {@code wait}. */
    private ApiHandler handler(Duration wait) {
        ApiHandler handler = api.get();
        if (handler != null) {
            return handler;
        }
        try {
            started.await(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return api.get();
    }

    private static HttpRouting.Builder routing(ApiServer server, HttpOptions options,
            ProtocolProblems problems, JobJson json, Ticker ticker) {
        return HttpRouting.builder()
                .any((req, res) -> serve(server.handler(options.limits().readTimeout()), options, json, ticker, req,
                        res))
                .error(Throwable.class, (req, res, error) -> {
                    log.error("{} {} failed", req.prologue().method().text(),
                            PathTemplate.of(req.prologue().uriPath().rawPath()), error);
                    if (!res.isSent()) {
                        ApiProblem problem = problems.problem(EventType.INTERNAL_ERROR, 500, "");
                        res.status(500).header("Content-Type", ApiHandler.PROBLEM_JSON)
                                .send(json.bytes(json.problem(problem)));
                    }
                });
    }

    private static void serve(ApiHandler api, HttpOptions options, JobJson json, Ticker ticker, ServerRequest req,
            ServerResponse res) throws IOException {
        long started = ticker.nanoTime();
        HelidonHttpCall call = new HelidonHttpCall(req, res, options.maxBodyBytes());
        if (req.headers().size() > options.limits().maxHeaders()) {
            // The server bounds the headers' bytes; their count is bounded here, before anything reads them.
            ApiProblem problem = ProtocolProblems.headersTooLarge(options.limits().maxHeaders() + " fields")
                    .withHeader("Connection", "close");
            call.respond(431, Map.of("Content-Type", ApiHandler.PROBLEM_JSON, "Connection", "close"),
                    json.bytes(json.problem(problem)));
        } else if (api == null) {
            ApiProblem problem = ApiProblem.of(503, "unavailable", "Service unavailable",
                    "the scheduler is starting; retry shortly").withHeader("Retry-After", "1");
            call.respond(503, Map.of("Content-Type", ApiHandler.PROBLEM_JSON, "Retry-After", "1"),
                    json.bytes(json.problem(problem)));
        } else {
            api.handle(call);
        }
        if (access.isInfoEnabled()) {
            long micros = (ticker.nanoTime() - started) / 1_000;
            long fraction = micros % 1_000;
            access.info("{} {} {} {}.{}{}ms tenant={}", call.method(), PathTemplate.of(call.rawPath()), call.status(),
                    micros / 1_000, fraction < 10 ? "00" : fraction < 100 ? "0" : "", fraction,
                    call.tenant() == null ? "-" : call.tenant());
        }
        if (req.headers().containsToken(HeaderValues.CONNECTION_CLOSE) || call.closesConnection()) {
            // The answer is written; the server would otherwise wait for another request on this connection.
            throw new CloseConnectionException("closed after the answer, as asked");
        }
    }

    private static Tls tls(HttpOptions.TlsFiles files) {
        Keys keys;
        try {
            keys = Keys.builder().pem(pem -> pem
                            .key(Resource.create(files.privateKey()))
                            .certChain(Resource.create(files.certificateChain())))
                    .build();
        } catch (RuntimeException e) {
            throw cannotRead(files, e);
        }
        if (keys.privateKey().isEmpty() || keys.certChain().isEmpty()) {
            throw new IllegalStateException("cannot read the TLS key or certificate: "
                    + files.privateKey() + " must hold a PEM private key, " + files.certificateChain()
                    + " a PEM certificate chain");
        }
        try {
            return Tls.builder().privateKey(keys).privateKeyCertChain(keys).build();
        } catch (RuntimeException e) {
            throw cannotRead(files, e);
        }
    }

    private static IllegalStateException cannotRead(HttpOptions.TlsFiles files, RuntimeException e) {
        return new IllegalStateException("cannot read the TLS key or certificate (" + files.privateKey() + ", "
                + files.certificateChain() + "): " + e.getMessage(), e);
    }

    /** The port listened on (the one picked, when configured with 0). */
    public int port() {
        return server.port();
    }

    /** Whether the server speaks HTTPS. */
    public boolean tls() {
        return tls;
    }

    /**
     * Stops accepting connections and requests, lets those in progress finish within the shutdown timeout, then
     * closes what is left.
     */
    @Override
    public void close() {
        started.countDown();
        if (server != null && server.isRunning()) {
            server.stop();
        }
    }
}
