package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Node.js webhook receiver of {@code src/test/node/receiver.js}: it verifies every request with the official
 * Standard Webhooks library (npm {@code standardwebhooks}, pinned in {@code package-lock.json}, installed with
 * {@code npm ci}) and remembers what it saw ({@link #seen}). {@link #start} skips the calling test (an assumption,
 * with the reason) when {@code node} or {@code npm} is not on the PATH.
 */
final class NodeReceiver implements AutoCloseable {
    private static final Path SOURCES = Path.of("src/test/node").toAbsolutePath();
    private static final Path INSTALL = Path.of("target/standardwebhooks-receiver").toAbsolutePath();

    private final Process node;
    private final URI base;
    private final HttpClient http = HttpClient.newHttpClient();

    private NodeReceiver(Process node, URI base) {
        this.node = node;
        this.base = base;
    }

    /** @param secrets path -> the one secret ({@code whsec_...}) requests to that path are verified with */
    static NodeReceiver start(Map<String, String> secrets) throws Exception {
        Path nodeBin = onPath("node");
        Path npm = onPath("npm");
        assumeTrue(nodeBin != null && npm != null, "node and npm are not on the PATH: the Standard Webhooks "
                + "interoperability test (a Node.js receiver using the official library) is skipped");
        install(npm);
        ProcessBuilder pb = new ProcessBuilder(nodeBin.toString(), "receiver.js").directory(INSTALL.toFile())
                .redirectErrorStream(true);
        pb.environment().put("RECEIVER_SECRETS", ServerFixture.JSON.writeValueAsString(secrets));
        Process node = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("the receiver's first line").startsWith("LISTENING ");
        Thread.ofVirtual().start(() -> out.lines().forEach(l -> { })); // keep its pipe from filling up
        return new NodeReceiver(node, URI.create("http://127.0.0.1:" + line.substring("LISTENING ".length()).trim()));
    }

    /** The sources (package.json, package-lock.json, receiver.js) into target/, then {@code npm ci} there. */
    private static synchronized void install(Path npm) throws Exception {
        Files.createDirectories(INSTALL);
        for (String file : List.of("package.json", "package-lock.json", "receiver.js")) {
            Files.copy(SOURCES.resolve(file), INSTALL.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Process ci = new ProcessBuilder(npm.toString(), "ci", "--no-audit", "--no-fund", "--prefer-offline")
                .directory(INSTALL.toFile()).redirectErrorStream(true).start();
        String output = new String(ci.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(ci.waitFor(180, TimeUnit.SECONDS)).as("npm ci finished").isTrue();
        assertThat(ci.exitValue()).as("npm ci in %s:%n%s", INSTALL, output).isZero();
    }

    URI resolve(String path) {
        return base.resolve(path);
    }

    /** Every webhook request it got, in arrival order: path, verified, headers, body (and the error if refused). */
    List<JsonNode> seen() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/seen")).build(),
                HttpResponse.BodyHandlers.ofString());
        List<JsonNode> all = new ArrayList<>();
        ServerFixture.JSON.readTree(r.body()).forEach(all::add);
        return all;
    }

    HttpClient http() {
        return http;
    }

    private static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String d : path.split(File.pathSeparator)) {
            Path candidate = Path.of(d, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    @Override
    public void close() throws InterruptedException {
        node.destroy();
        node.waitFor(5, TimeUnit.SECONDS);
        node.destroyForcibly();
        http.close();
    }
}
