package dev.hourglass.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code hourglass server} in a child JVM on this test's class path, for tests that kill it with SIGKILL: started on a
 * free port with the tenant {@code default}'s key {@link ServerFixture#API_KEY}; its output is read until it says
 * where it listens, then drained so that the pipe never fills.
 *
 * @param process the child; {@code destroyForcibly()} is SIGKILL on Linux
 * @param port the port it listens on
 */
public record ChildServer(Process process, int port) {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

    /** Starts {@code hourglass server --port 0 --data DATA ARGS...} and waits (30 s at most) until it listens. */
    public static ChildServer start(Path data, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-cp", classpath,
                "dev.hourglass.server.cli.Main", "server", "--port", "0", "--data", data.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("HOURGLASS_DEFAULT_API_KEY", ServerFixture.API_KEY);
        pb.redirectErrorStream(true);
        Process process = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread.ofVirtual().start(() -> drain(out));
                return new ChildServer(process, Integer.parseInt(m.group(1)));
            }
        }
        process.destroyForcibly();
        throw new AssertionError("the server did not say where it listens");
    }

    private static void drain(BufferedReader out) {
        try {
            while (out.readLine() != null) {
                // discard
            }
        } catch (IOException ignored) {
            // the child was killed
        }
    }
}
