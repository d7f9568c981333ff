package dev.hourglass.bench;

import com.sun.net.httpserver.HttpServer;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.webhook.WebhookHandler;
import dev.hourglass.webhook.WebhookTarget;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import dev.hourglass.webhook.signing.SigningSecret;
import dev.hourglass.webhook.signing.WebhookSecrets;
import dev.hourglass.webhook.signing.WebhookSigner;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;

/**
 * S2 with real webhooks: jobs due at once, each delivered by HTTP POST to a receiver on loopback that answers 204,
 * through the same {@link WebhookHandler} (and client) the server uses. The receiver is a separate Node.js process
 * when {@code node} is on the PATH (as a real receiver would be: its own process, a lean HTTP stack), otherwise a JDK
 * HttpServer inside this JVM, which takes more of the two cores than the deliveries it measures. Either way it
 * shares the machine with Hourglass, so the figure is a lower bound; the RESULT line names the receiver.
 */
final class WebhookDrain {
    private static final String NODE_RECEIVER = """
            const http = require('http');
            const server = http.createServer((req, res) => {
              req.resume();
              req.on('end', () => { res.writeHead(204); res.end(); });
            });
            server.keepAliveTimeout = 60000;
            server.listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port));
            """;

    /** The bench's receivers listen on loopback: the only addresses its webhooks may reach. */
    static final WebhookAllowlist LOOPBACK = WebhookAllowlist.parse("127.0.0.0/8");

    private WebhookDrain() {}

    /** A receiver answering 204 to every POST on /hook, and how to stop it. */
    private record Receiver(String kind, URI url, AutoCloseable stop) {}

    /**
     * The webhook drain beside the HTTP client's own limit: on one receiver, the client alone (the same client, no
     * scheduler: {@code concurrency} senders posting the drain's payload as fast as it answers), then the drain, then
     * the client alone again, so that the ratio compares figures of one sitting. An unmeasured round of each, as long
     * as a measured one, warms the JIT first.
     */
    static void run(Report report, Path workDir, int count, int concurrency) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "receiver");
        Receiver receiver = receiverKind().equals("node") ? nodeReceiver(dir) : jdkReceiver();
        try {
            // Warm-ups, unmeasured: both figures are of compiled code, not of the JIT's first compilations.
            ClientAlone.run(receiver.url(), count, concurrency);
            try (DrainStore store = DrainStore.sqlite(workDir, "s2-drain-webhook-warm-up")) {
                drain(receiver, store, count, DrainRate.lead(count), concurrency, true);
            }
            ClientAlone.Figures before = ClientAlone.run(receiver.url(), count, concurrency);
            Report.progress("client alone: %,.0f posts/s", before.perSecond());
            DrainRate.Drain drained;
            try (DrainStore store = DrainStore.sqlite(workDir, "s2-drain-webhook")) {
                drained = drain(receiver, store, count, DrainRate.lead(count), concurrency, true);
            }
            Report.progress("drain: %,.0f webhooks/s", drained.perSecond());
            ClientAlone.Figures after = ClientAlone.run(receiver.url(), count, concurrency);
            Report.progress("client alone: %,.0f posts/s", after.perSecond());
            double limit = (before.perSecond() + after.perSecond()) / 2;
            for (ClientAlone.Figures alone : List.of(before, after)) {
                report.result("webhook-client-alone", alone.figures(
                        Map.of("receiver", receiver.kind(), "in_flight", concurrency)));
            }
            Map<String, Object> figures = drained.figures(Map.of("receiver", receiver.kind(),
                    "in_flight", concurrency));
            figures.put("client_alone_per_s", limit);
            figures.put("of_client_alone", drained.perSecond() / limit);
            figures.put("cpu_us_per_job", drained.cpuMicrosPerJob());
            report.result("drain-webhook", figures);
        } finally {
            receiver.stop().close();
            BenchEngines.delete(dir);
        }
    }

    /** One webhook drain and the kind of receiver it delivered to. */
    record Drained(String receiver, DrainRate.Drain drain) {}

    /** One drain of {@code count} webhooks on {@code store} (fresh and empty), to a receiver started for it. */
    static Drained drain(Path workDir, DrainStore store, int count, Duration lead, int concurrency,
            boolean deliveryHistory) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "receiver");
        Receiver receiver = receiverKind().equals("node") ? nodeReceiver(dir) : jdkReceiver();
        try {
            return new Drained(receiver.kind(), drain(receiver, store, count, lead, concurrency, deliveryHistory));
        } finally {
            receiver.stop().close();
            BenchEngines.delete(dir);
        }
    }

    private static DrainRate.Drain drain(Receiver receiver, DrainStore store, int count, Duration lead,
            int concurrency, boolean deliveryHistory) throws Exception {
        // The receiver is on loopback, which webhooks may not reach unless allowlisted: allowlisted explicitly. Every
        // delivery is signed, as the server signs it, so the figure includes the HMAC.
        try (CloseableHttpClient client = WebhookHandler.newClient(WebhookHandler.DEFAULT_CONNECT_TIMEOUT,
                GuardedDnsResolver.system(LOOPBACK))) {
            String target = new WebhookTarget(receiver.url(), Map.of()).toJson();
            WebhookHandler handler = new WebhookHandler(client, WebhookHandler.DEFAULT_CONNECT_TIMEOUT,
                    EngineConfig.DEFAULT_TIMEOUT, new WebhookSigner(WebhookSecrets.of(List.of(
                            SigningSecret.generate())), SystemTime.wallClock()));
            return DrainRate.drain(store, "drain-webhook", count, lead, WebhookHandler.NAME, handler, target,
                    concurrency, deliveryHistory);
        }
    }

    /** The receiver the drains deliver to: "node" when Node.js is on the PATH, else "jdk-httpserver". */
    static String receiverKind() {
        return HttpThroughput.findOnPath("node") != null ? "node" : "jdk-httpserver";
    }

    private static Receiver nodeReceiver(Path dir) throws IOException {
        Path script = dir.resolve("receiver.js");
        Files.writeString(script, NODE_RECEIVER, StandardCharsets.UTF_8);
        Process node = new ProcessBuilder(HttpThroughput.findOnPath("node").toString(), script.toString())
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("LISTENING ")) {
            node.destroyForcibly();
            throw new IllegalStateException("the Node.js receiver did not start: " + line);
        }
        URI url = URI.create("http://127.0.0.1:" + line.substring("LISTENING ".length()).trim() + "/hook");
        return new Receiver("node", url, node::destroyForcibly);
    }

    private static Receiver jdkReceiver() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(threads);
        server.createContext("/hook", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
        return new Receiver("jdk-httpserver", url, () -> {
            server.stop(0);
            threads.shutdownNow();
        });
    }
}
