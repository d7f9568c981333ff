package dev.hourglass.server.docs;

import dev.hourglass.server.ApiContract;
import dev.hourglass.server.cli.Main;
import dev.hourglass.server.docs.DocExamples.Assignment;
import dev.hourglass.server.docs.DocExamples.Example;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a doc example as a reader pastes it: through {@code bash -c}, with the real {@code curl}, after the variables
 * the document set before it. What is changed in the text, and nothing else:
 *
 * <ul>
 *   <li>the port: {@code localhost:8080} and {@code 127.0.0.1:8080} become the test server's port;
 *   <li>a variable set to a placeholder gets the value the reader would have: {@code export KEY=hgk_…} the default
 *       tenant's key, {@code export HOURGLASS_ADMIN_KEY=…} the admin key;
 *   <li>placeholders from earlier answers ({@code 019ac1f2-…}) get the values those answers had.
 * </ul>
 *
 * To learn the status without changing what curl prints, {@code curl} is a shell function that adds
 * {@code --write-out} to stderr (and {@code -D}, the headers to a file, so that each answer is checked against the
 * OpenAPI contract). {@code bin/hourglass} is a stand-in that runs the same command line
 * ({@link Main}) on the test classpath: the real script builds the jars with {@code mvn install} on first use, and
 * the shaded jar does not exist yet when the tests run. It reaches the test server through {@code HOURGLASS_URL},
 * the command line's own setting for the server's address.
 */
final class DocShell {
    private static final Pattern DOC_PORT = Pattern.compile("\\b(localhost|127\\.0\\.0\\.1):8080\\b");
    private static final Pattern PLACEHOLDER_ASSIGNMENT =
            Pattern.compile("(?s)((?:export\\s+)?[A-Za-z_][A-Za-z0-9_]*=)(\\S*…\\S*)(.*)");
    private static final String STATUS_MARK = "HOURGLASS-DOC-EXAMPLE-STATUS ";
    /** Where the curl function writes each answer's headers (-D), for the contract check. */
    private static final String HEADERS_FILE = "last-answer-headers";
    private static final String CURL_WITH_STATUS = "curl() { command curl -D '" + HEADERS_FILE + "' --write-out "
            + "'%{stderr}\\n" + STATUS_MARK + "%{http_code} %{method} %{url_effective}\\n' \"$@\"; }\n";

    /** What an example did: its exit code, and for curl the HTTP status, headers (when shown) and body. */
    record Answer(int exitCode, Integer status, Map<String, String> headers, String body, String stdout,
            String stderr) {}

    private final Path workDir;
    private final URI server;
    private final Map<String, String> variables;

    /**
     * @param workDir where examples run; gets a {@code bin/hourglass} stand-in
     * @param server the test server
     * @param variables the values of variables the docs set to a placeholder ({@code KEY} → a key)
     */
    DocShell(Path workDir, URI server, Map<String, String> variables) {
        this.workDir = workDir;
        this.server = server;
        this.variables = Map.copyOf(variables);
        writeLauncher();
    }

    /** The text bash runs for {@code example}: its variables, then the command, each with values substituted. */
    String script(Example example, Map<String, String> placeholders) {
        StringBuilder script = new StringBuilder(CURL_WITH_STATUS);
        for (Assignment a : example.shell()) {
            script.append(substitute(assignment(a), placeholders)).append('\n');
        }
        script.append(substitute(example.command(), placeholders)).append('\n');
        return script.toString();
    }

    Answer run(Example example, Map<String, String> placeholders) {
        String script = script(example, placeholders);
        int unknown = script.indexOf(AnswerPattern.ELLIPSIS);
        if (unknown >= 0) {
            int start = Math.max(script.lastIndexOf(' ', unknown), script.lastIndexOf('/', unknown)) + 1;
            throw new AssertionError(example.name() + ": nothing earlier in the document gives a value for '"
                    + script.substring(start, unknown + 1) + "' (an answer that shows it, or a variable the test "
                    + "knows: " + variables.keySet() + ")");
        }
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(workDir.toFile());
        pb.environment().keySet().removeIf(name -> name.startsWith("HOURGLASS_") || variables.containsKey(name));
        pb.environment().put("HOURGLASS_URL", server.toString());
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(example.name() + ": still running after 60 s");
            }
            String stderr = new String(err.join(), StandardCharsets.UTF_8);
            Answer answer = answer(p.exitValue(), out, stderr);
            checkContract(answer, stderr);
            return answer;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String assignment(Assignment a) {
        Matcher m = PLACEHOLDER_ASSIGNMENT.matcher(a.text());
        if (m.matches() && variables.containsKey(a.name())) {
            return m.group(1) + "'" + variables.get(a.name()) + "'" + m.group(3);
        }
        return a.text();
    }

    private String substitute(String text, Map<String, String> placeholders) {
        String port = DOC_PORT.matcher(text).replaceAll("$1:" + server.getPort());
        List<String> longestFirst = new ArrayList<>(placeholders.keySet());
        longestFirst.sort(Comparator.comparingInt(String::length).reversed());
        for (String placeholder : longestFirst) {
            port = port.replace(placeholder, placeholders.get(placeholder));
        }
        return port;
    }

    private static Answer answer(int exitCode, String stdout, String stderr) {
        int mark = stderr.lastIndexOf(STATUS_MARK);
        if (mark < 0) {
            return new Answer(exitCode, null, Map.of(), stdout, stdout, stderr);
        }
        if (stderr.indexOf(STATUS_MARK) != mark) {
            throw new AssertionError("one example ran curl more than once: " + stderr);
        }
        int status = Integer.parseInt(stderr.substring(mark + STATUS_MARK.length()).strip().split(" ")[0]);
        String cleanErr = stderr.substring(0, mark).strip();
        Map<String, String> headers = new LinkedHashMap<>();
        String body = stdout;
        if (stdout.startsWith("HTTP/")) { // curl -i: the status line and headers come first
            int end = stdout.indexOf("\r\n\r\n");
            String head = end < 0 ? stdout : stdout.substring(0, end);
            body = end < 0 ? "" : stdout.substring(end + 4);
            head.lines().skip(1).map(l -> l.split(":", 2)).filter(h -> h.length == 2)
                    .forEach(h -> headers.putIfAbsent(h[0].strip().toLowerCase(Locale.ROOT), h[1].strip()));
        }
        return new Answer(exitCode, status, headers, body, stdout, cleanErr);
    }

    /** Holds a curl example's answer to the OpenAPI contract, like every other HTTP test ({@link ApiContract}). */
    private void checkContract(Answer answer, String stderr) throws IOException {
        int mark = stderr.lastIndexOf(STATUS_MARK);
        Path headersFile = workDir.resolve(HEADERS_FILE);
        if (answer.status() == null || mark < 0 || !Files.exists(headersFile)) {
            return;
        }
        String[] line = stderr.substring(mark + STATUS_MARK.length()).strip().split(" ", 3);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String[] blocks = Files.readString(headersFile, StandardCharsets.ISO_8859_1).strip().split("\r\n\r\n");
        blocks[blocks.length - 1].lines().skip(1).map(l -> l.split(":", 2)).filter(h -> h.length == 2) // the last
                .forEach(h -> headers.computeIfAbsent(h[0].strip(), k -> new ArrayList<>()).add(h[1].strip()));
        Files.delete(headersFile);
        ApiContract.check(line[1], URI.create(line[2]).getRawPath(), answer.status(),
                HttpHeaders.of(headers, (name, value) -> true), answer.body());
    }

    /** {@code bin/hourglass}: the command line's main class on this test's classpath. */
    private void writeLauncher() {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        try {
            Path bin = Files.createDirectories(workDir.resolve("bin"));
            Path args = bin.resolve("java-args");
            Files.writeString(args, String.join("\n", "-Xmx128m", "-XX:TieredStopAtLevel=1",
                    "--enable-native-access=ALL-UNNAMED", "-cp", "\"" + classpath + "\"", Main.class.getName()));
            Path launcher = bin.resolve("hourglass");
            Files.writeString(launcher, "#!/usr/bin/env bash\nexec '" + java + "' @'" + args + "' \"$@\"\n");
            Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
