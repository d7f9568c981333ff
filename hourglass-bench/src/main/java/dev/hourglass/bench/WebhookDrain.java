package dev.hourglass.bench;

import com.sun.net.httpserver.HttpServer;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.server.webhook.WebhookHandler;
import dev.hourglass.server.webhook.WebhookTarget;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * S2 with real webhooks: jobs due at once, each delivered by HTTP POST to a receiver on loopback (a JDK HttpServer
 * answering 204), through the same {@link WebhookHandler} the server uses. The receiver shares the two cores with
 * Hourglass, so this is a lower bound of what a remote receiver would see.
 */
final class WebhookDrain {
    private WebhookDrain() {}

    static void run(Report report, Path workDir, int count, int concurrency) throws Exception {
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        ExecutorService receiverThreads = Executors.newVirtualThreadPerTaskExecutor();
        receiver.setExecutor(receiverThreads);
        receiver.createContext("/hook", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        try {
            URI url = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
            String target = new WebhookTarget(url, Map.of()).toJson();
            WebhookHandler handler = new WebhookHandler(WebhookHandler.newClient(WebhookHandler.DEFAULT_CONNECT_TIMEOUT),
                    WebhookHandler.DEFAULT_CONNECT_TIMEOUT, EngineConfig.DEFAULT_TIMEOUT);
            DrainRate.run(report, workDir, "drain-webhook", count, WebhookHandler.NAME, handler, target, concurrency);
        } finally {
            receiver.stop(0);
            receiverThreads.shutdownNow();
        }
    }
}
