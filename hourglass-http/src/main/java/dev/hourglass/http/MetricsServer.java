package dev.hourglass.http;

import io.helidon.webserver.WebServer;
import java.util.Objects;

/**
 * {@code GET /metrics} on a port of its own, without a key: for a monitoring network the API's clients do not
 * reach. Anything else on that port is a 404. A second Helidon listener, so the API's limits and its admin key do
 * not apply to the scrapes, and a flood of API requests does not queue them.
 */
public final class MetricsServer implements AutoCloseable {
    private final WebServer server;

    private MetricsServer(WebServer server) {
        this.server = server;
    }

    /**
     * Listens on {@code bind:port} (0 picks a free port).
     *
     * @throws IllegalStateException when the port cannot be bound
     */
    public static MetricsServer start(String bind, int port, MetricsExposition exposition) {
        Objects.requireNonNull(exposition, "exposition");
        WebServer server = WebServer.builder()
                .host(bind)
                .port(port)
                .shutdownHook(false)
                .routing(routing -> routing.get(MetricsExposition.PATH, (req, res) -> {
                    MetricsExposition.Scrape scrape = exposition.scrape(
                            req.headers().first(io.helidon.http.HeaderNames.ACCEPT).orElse(null));
                    res.header("Content-Type", scrape.contentType()).send(scrape.body());
                }))
                .build()
                .start();
        if (!server.isRunning()) {
            throw new IllegalStateException("cannot listen on " + bind + ":" + port + " for /metrics");
        }
        return new MetricsServer(server);
    }

    /** The port listened on. */
    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        if (server.isRunning()) {
            server.stop();
        }
    }
}
