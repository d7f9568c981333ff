package dev.hourglass.server.cluster;

import dev.hourglass.server.ServerFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Hourglass server node in a child JVM, started through the real CLI ({@code Main server --store postgres}), as
 * an operator would run it. Its output goes to a log file (kept in the test's temp dir, printed on failure).
 */
final class ClusterNode implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

    private final String id;
    private final Process process;
    private final int port;
    private final Path log;
    private final Thread logCopier;

    private ClusterNode(String id, Process process, int port, Path log, Thread logCopier) {
        this.id = id;
        this.process = process;
        this.port = port;
        this.log = log;
        this.logCopier = logCopier;
    }

    /** Starts a node and returns once it says where it listens (at most 60 s). */
    static ClusterNode start(String id, Path logDir, String jdbcUrl, String user, String password, String schema)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(java, "-Xmx384m", "-cp", classpath,
                "dev.hourglass.server.cli.Main", "server", "--port", "0", "--store", "postgres",
                "--jdbc-url", jdbcUrl, "--db-schema", schema, "--db-pool-size", "4", "--node-id", id));
        if (user != null) {
            command.addAll(List.of("--db-user", user));
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (password != null) {
            pb.environment().put("HOURGLASS_DB_PASSWORD", password);
        }
        // As an operator would: every node signs with the same secret (required on PostgreSQL), and the receiver,
        // on loopback, is allowlisted explicitly.
        pb.environment().put("HOURGLASS_WEBHOOK_SECRETS", ServerFixture.WEBHOOK_SECRET.encoded());
        pb.environment().put("HOURGLASS_WEBHOOK_ALLOWLIST", "127.0.0.0/8");
        pb.environment().put("HOURGLASS_DEFAULT_API_KEY", ServerFixture.API_KEY);
        // The pending-jobs gauges follow the store within a second (ClusterTest's metrics sums).
        pb.environment().put("HOURGLASS_METRICS_PENDING_EVERY", "1s");
        Process process = pb.start();
        Path log = logDir.resolve(id + ".log");
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread copier = Thread.ofPlatform().daemon().name("log-" + id).start(() -> copyOutput(process, log, port));
        try {
            return new ClusterNode(id, process, port.get(60, TimeUnit.SECONDS), log, copier);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new AssertionError("node " + id + " did not say where it listens; its output:\n" + tail(log), e);
        }
    }

    /** Copies the child's output to its log file (so the pipe never fills up) and reports the port it prints. */
    private static void copyOutput(Process process, Path log, CompletableFuture<Integer> port) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)); PrintWriter out = new PrintWriter(Files.newBufferedWriter(log), true)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.println(line);
                Matcher m = LISTENING.matcher(line);
                if (!port.isDone() && m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            // the child died; what it printed so far is in the log
        } finally {
            port.completeExceptionally(new IllegalStateException("the node's output ended"));
        }
    }

    String id() {
        return id;
    }

    /** Its metrics, open: the nodes run without an admin key. */
    URI metrics() {
        return URI.create("http://127.0.0.1:" + port + "/metrics");
    }

    /** The API's base, for paths such as {@code /v1/schedules}. */
    URI base() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    URI jobs() {
        return URI.create("http://127.0.0.1:" + port + "/v1/jobs");
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook, no hand-back; the node's claims must be rescued by the others. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM: the shutdown hook closes the server, which hands its claims back. Returns the exit code. */
    int stopGracefully() throws InterruptedException {
        // Through the handle: Process.destroy() also closes our end of the child's output pipe, so what the child
        // prints while it stops (the hand-back) would be lost.
        process.toHandle().destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("node " + id + " did not stop within 30 s of SIGTERM");
        }
        logCopier.join(5_000); // the log holds all the node printed
        return process.exitValue();
    }

    /** The last lines the node printed, for failure messages. */
    String logTail() {
        return tail(log);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
