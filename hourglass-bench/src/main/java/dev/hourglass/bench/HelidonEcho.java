package dev.hourglass.bench;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.io.InputStream;

/**
 * The ceiling for the API's HTTP throughput on this machine: Helidon's WebServer answering each POST with its own
 * JSON body, nothing else. The API on the same server is measured against it (docs/benchmarks.md).
 *
 * <pre>java -cp hourglass-bench.jar dev.hourglass.bench.HelidonEcho 18200</pre>
 */
public final class HelidonEcho {
    private HelidonEcho() {}

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 18200;
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(port)
                .connectionConfig(c -> c.tcpNoDelay(true))
                .routing(r -> r.any((req, res) -> {
                    byte[] body;
                    try (InputStream in = req.content().inputStream()) {
                        body = in.readNBytes(1024 * 1024);
                    } catch (IOException e) {
                        body = new byte[0];
                    }
                    res.header(HeaderNames.CONTENT_TYPE, "application/json").send(body);
                }))
                .build()
                .start();
        System.out.println("echo listening on http://127.0.0.1:" + server.port());
        Thread.currentThread().join();
    }
}
