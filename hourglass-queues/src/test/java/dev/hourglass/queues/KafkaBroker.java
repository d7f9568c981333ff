package dev.hourglass.queues;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A real, single-node Apache Kafka broker (KRaft combined mode: broker + controller in one
 * process) running in a child JVM, for tests.
 *
 * <p>Everything comes from Maven Central: the child JVM runs with this test JVM's own class
 * path, which contains {@code org.apache.kafka:kafka_2.13} (test scope). No Docker, no
 * Kafka distribution tarball.
 *
 * <p>Life cycle:
 * <ol>
 *   <li>{@link #start(Path)} picks two free loopback ports (client + controller), writes
 *       {@code dir/server.properties}, formats {@code dir/data} (in-process, via
 *       {@code kafka.tools.StorageTool.execute}, the equivalent of {@code kafka-storage.sh format}),
 *       launches {@code kafka.Kafka dir/server.properties} in a child JVM and waits until an
 *       AdminClient {@code describeCluster} answers.</li>
 *   <li>{@link #stop()} (SIGTERM, controlled shutdown), {@link #kill()} (SIGKILL, like
 *       {@code kill -9}), {@link #restart()} (same ports, same data dir).</li>
 *   <li>{@link #close()} always kills the child. A JVM shutdown hook does the same if the
 *       test JVM exits without calling close, and the child itself exits when its stdin
 *       reaches EOF, i.e. when this JVM dies even from {@code kill -9} (see {@link Main}).</li>
 * </ol>
 *
 * <p>The broker's stdout/stderr go to {@code dir/broker.log}, appended across restarts; it logs
 * through this module's test logging (logback-test.xml: Kafka at WARN).
 */
public final class KafkaBroker implements AutoCloseable {

    /** Upper bound for the broker to become ready (start and restart). */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    /** Upper bound for a graceful (SIGTERM) shutdown before we fall back to SIGKILL. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;
    private final Path config;
    private final Path logFile;
    private final int port;
    private final int controllerPort;
    private final Thread shutdownHook;
    private volatile Process process;

    private KafkaBroker(Path dir, int port, int controllerPort) {
        this.dir = dir;
        this.config = dir.resolve("server.properties");
        this.logFile = dir.resolve("broker.log");
        this.port = port;
        this.controllerPort = controllerPort;
        // Last line of defence: never leave an orphan broker behind, even if close() is skipped.
        this.shutdownHook = new Thread(this::destroyNow, "kafka-broker-reaper");
    }

    /**
     * Formats a fresh KRaft log directory under {@code dir} and starts a broker on it.
     * {@code dir} should be empty (e.g. a JUnit {@code @TempDir}).
     */
    public static KafkaBroker start(Path dir) throws IOException {
        Files.createDirectories(dir);
        int[] ports = freePorts(2);
        KafkaBroker broker = new KafkaBroker(dir.toAbsolutePath(), ports[0], ports[1]);
        broker.writeConfig();
        broker.format();
        Runtime.getRuntime().addShutdownHook(broker.shutdownHook);
        try {
            broker.launchAndAwaitReady();
        } catch (RuntimeException | Error e) {
            broker.close();
            throw e;
        }
        return broker;
    }

    /** Bootstrap servers string for clients, e.g. {@code 127.0.0.1:40123}. */
    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** The data directory given to {@link #start(Path)}. */
    public Path dir() {
        return dir;
    }

    /** The broker's combined stdout/stderr. */
    public Path logFile() {
        return logFile;
    }

    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** Admin client properties pointing at this broker, with short timeouts suited to tests. */
    public Map<String, Object> adminConfig() {
        return Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    }

    /**
     * Creates a topic with replication factor 1 and waits until the broker serves its metadata
     * (CreateTopics returns once the controller has committed it; the broker side catches up
     * a moment later).
     */
    public void createTopic(String name, int partitions) {
        try (Admin admin = Admin.create(adminConfig())) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    admin.describeTopics(Set.of(name)).allTopicNames().get(5, TimeUnit.SECONDS);
                    return;
                } catch (ExecutionException e) {
                    if (System.nanoTime() > deadline) throw e;
                    Thread.sleep(50);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not create topic " + name, e);
        }
    }

    /** Graceful stop: SIGTERM (Kafka runs a controlled shutdown), then waits for exit. */
    public void stop() {
        Process p = process;
        if (p == null) return;
        // SIGTERM via the ProcessHandle, NOT Process.destroy(): Process.destroy() also closes
        // the child's stdin, which our watchdog (Main) reads as "parent died" and halts the
        // broker mid-shutdown, turning every stop into an unclean one.
        p.toHandle().destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** Hard stop, like {@code kill -9}: no controlled shutdown, no log flush. */
    public void kill() {
        destroyNow();
    }

    /** Starts the broker again on the same ports and log directory (stopping it first if needed). */
    public void restart() {
        if (isRunning()) stop();
        launchAndAwaitReady();
    }

    /** Kills the broker (always) and unregisters the shutdown hook. Idempotent. */
    @Override
    public void close() {
        destroyNow();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException ignored) {
            // JVM already shutting down, or hook never registered/already removed
        }
    }

    /** Last {@code lines} lines of the broker log, for failure messages. */
    public String logTail(int lines) {
        try {
            if (!Files.exists(logFile)) return "(no broker log at " + logFile + ")";
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(could not read " + logFile + ": " + e + ")";
        }
    }

    // ------------------------------------------------------------------------------------------

    private void destroyNow() {
        Process p = process;
        if (p == null) return;
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    private void writeConfig() throws IOException {
        String props = String.join("\n",
                "# Written by dev.hourglass.queues.KafkaBroker",
                "process.roles=broker,controller",
                "node.id=1",
                // Static single-voter quorum; format then needs no --standalone flag
                // (the alternative is controller.quorum.bootstrap.servers + format --standalone).
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                // Tests must create their topics explicitly; producing to an unknown topic must fail.
                "auto.create.topics.enable=false",
                "num.partitions=1",
                "default.replication.factor=1",
                "min.insync.replicas=1",
                // Internal topics: one replica, few partitions (faster start, less memory).
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                // ACL authorizer that allows everything until a test adds an ACL: lets tests
                // provoke TopicAuthorizationException with a DENY ACL, costs nothing otherwise.
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found=true",
                // Frugality on a small machine; the cleaner's dedupe buffer defaults to 128 MiB,
                // which does not fit comfortably in -Xmx256m.
                "log.cleaner.dedupe.buffer.size=8388608",
                "log.cleaner.threads=1",
                "num.network.threads=2",
                "num.io.threads=2",
                "num.recovery.threads.per.data.dir=1",
                "background.threads=2",
                // After an unclean exit (kill()), the restarted broker's registration is refused
                // (DUPLICATE_BROKER_REGISTRATION) until the old session expires: default 9 s.
                "broker.session.timeout.ms=4000",
                "broker.heartbeat.interval.ms=500",
                "");
        Files.writeString(config, props, StandardCharsets.UTF_8);
    }

    /**
     * {@code kafka-storage.sh format -t <cluster-id> -c server.properties}, run in-process.
     * {@code StorageTool.execute} (unlike {@code main}) returns an exit code instead of calling
     * {@code System.exit}, so it is safe inside the test JVM.
     */
    private void format() {
        String clusterId = Uuid.randomUuid().toString();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            rc = kafka.tools.StorageTool.execute(
                    new String[] {"format", "-t", clusterId, "-c", config.toString()}, out);
        } catch (Exception e) {
            throw new IllegalStateException("kafka storage format failed: " + buf.toString(StandardCharsets.UTF_8), e);
        }
        if (rc != 0) {
            throw new IllegalStateException("kafka storage format exited " + rc + ": " + buf.toString(StandardCharsets.UTF_8));
        }
    }

    private void launchAndAwaitReady() {
        long t0 = System.nanoTime();
        launch();
        awaitReady(t0);
    }

    private void launch() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "-Xms64m", "-Xmx256m",
                "-XX:+UseSerialGC",              // one GC thread: 2-core machine
                "-XX:TieredStopAtLevel=1",       // C1 only: faster start-up, fine for tests
                "-XX:+ExitOnOutOfMemoryError",
                "-Djava.awt.headless=true"));
        if (Runtime.version().feature() >= 23) {
            // Silence JDK 24+ "sun.misc.Unsafe::... will be removed" warnings; unknown before JDK 23.
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.add(Main.class.getName());
        cmd.add(config.toString());

        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        // Class path through the environment, not argv: no command-line length limit to hit.
        // Under surefire, java.class.path is the real test class path (not the booter jar).
        pb.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        try {
            // stdin stays a pipe from us: Main treats EOF on it as "parent died".
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("could not start broker JVM: " + cmd, e);
        }
    }

    /** Polls describeCluster until the broker answers, the child dies, or READY_TIMEOUT passes. */
    private void awaitReady(long t0) {
        long deadline = t0 + READY_TIMEOUT.toNanos();
        Map<String, Object> cfg = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000,
                AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 100,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        Exception last = null;
        try (Admin admin = Admin.create(cfg)) {
            while (System.nanoTime() < deadline) {
                Process p = process;
                if (p == null || !p.isAlive()) {
                    throw new IllegalStateException("Kafka broker JVM exited early"
                            + (p == null ? "" : " with code " + p.exitValue())
                            + "; tail of " + logFile + ":\n" + logTail(60));
                }
                try {
                    var nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
                            .nodes().get(3, TimeUnit.SECONDS);
                    if (!nodes.isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    last = e;
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            destroyNow();
            throw new IllegalStateException("interrupted while waiting for Kafka broker", e);
        }
        destroyNow();
        throw new IllegalStateException("Kafka broker not ready within " + READY_TIMEOUT
                + " (last error: " + last + "); tail of " + logFile + ":\n" + logTail(60), last);
    }

    private static int[] freePorts(int n) throws IOException {
        // Hold all sockets open until we have n distinct ports, then release them. There is a
        // small race with other processes grabbing the port before the broker binds it.
        ServerSocket[] sockets = new ServerSocket[n];
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets[i].setReuseAddress(true);
                ports[i] = sockets[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : sockets) if (s != null) s.close();
        }
        return ports;
    }

    /**
     * Child-JVM entry point: a watchdog around {@code kafka.Kafka.main}. It exits the broker
     * (with {@code Runtime.halt}, no shutdown hooks) as soon as its stdin reaches EOF, which
     * happens when the parent test JVM dies for any reason, including {@code kill -9} or a
     * surefire fork timeout, where no shutdown hook of the parent could run.
     */
    public static final class Main {
        public static void main(String[] args) throws Exception {
            Thread watchdog = new Thread(() -> {
                try (InputStream in = System.in) {
                    while (in.read() != -1) {
                        // ignore any input; we only care about EOF
                    }
                } catch (IOException ignored) {
                    // treat as EOF
                }
                System.err.println("[KafkaBroker.Main] parent gone (stdin EOF), halting broker");
                Runtime.getRuntime().halt(137);
            }, "parent-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            kafka.Kafka.main(args);
        }
    }
}
