package dev.hourglass.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.ApiContract;
import dev.hourglass.server.ServerFixture;
import dev.hourglass.webhook.signing.SigningSecret;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: help, version, and one clear line with exit code 2 for every configuration it cannot use. */
class CliTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: hourglass").containsPattern("(?m)^\\s+server\\s+\\S+")
                .containsPattern("(?m)^\\s+help\\s+\\S+");
    }

    @Test
    void serverHelpListsItsOptions() {
        Run r = run("server", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("--port").contains("--bind").contains("--data").contains("HOURGLASS_PORT")
                .contains("--db-schema").contains("--node-id").contains("HOURGLASS_NODE_ID")
                .contains("--webhook-secret").contains("HOURGLASS_WEBHOOK_SECRETS")
                .contains("--webhook-allowlist").contains("HOURGLASS_WEBHOOK_ALLOWLIST")
                .contains("--store-timeout").contains("HOURGLASS_STORE_TIMEOUT").contains("--db-socket-timeout");
    }

    @Test
    void webhookSecretPrintsANewSecretEachTime() {
        Run first = run("webhook-secret");
        Run second = run("webhook-secret");
        assertThat(first.code()).isZero();
        assertThat(first.out().strip()).matches("whsec_[A-Za-z0-9+/]{43}=");
        assertThat(SigningSecret.parse(first.out()).encoded()).isEqualTo(first.out().strip());
        assertThat(second.out()).isNotEqualTo(first.out());
    }

    /** On PostgreSQL every node must sign with the same secret, so one generated per node is not an option. */
    @Test
    void postgresWithoutAWebhookSecretIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--store", "postgres", "--jdbc-url",
                "jdbc:postgresql://127.0.0.1:1/hourglass");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString().contains("same secret")
                .contains("HOURGLASS_WEBHOOK_SECRETS").contains("hourglass webhook-secret");
    }

    @Test
    void aMalformedWebhookSecretIsOneLineAndNotEchoed() {
        Run r = run("server", "--port", "0", "--data", dir.toString(), "--webhook-secret",
                ServerFixture.WEBHOOK_SECRET.encoded() + ",whsec_c2hvcnQ=");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString().contains("--webhook-secret").contains("secret 2 of 2")
                .contains("24 to 64 bytes").doesNotContain("c2hvcnQ").doesNotContain(ServerFixture.WEBHOOK_SECRET
                        .encoded().substring(6));
        Run noPrefix = run("server", "--port", "0", "--data", dir.toString(), "--webhook-secret", "hunter2hunter2");
        assertThat(noPrefix.errLines()).singleElement().asString().contains("must start with whsec_")
                .doesNotContain("hunter2");
    }

    @Test
    void aMalformedAllowlistEntryIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--data", dir.toString(), "--webhook-allowlist", "localhost,10.0.0.1/8");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString().contains("--webhook-allowlist")
                .contains("did you mean 10.0.0.0/8");
        Run junk = run("server", "--port", "0", "--data", dir.toString(), "--webhook-allowlist", "0x7f.1");
        assertThat(junk.errLines()).singleElement().asString().contains("'0x7f.1' is neither a CIDR range");
    }

    @Test
    void outOfRangeTimeoutsAreOneLineAndExitCode2() {
        Run zero = run("server", "--port", "0", "--data", dir.toString(), "--store-timeout", "0");
        assertThat(zero.code()).isEqualTo(2);
        assertThat(zero.errLines()).singleElement().asString().isEqualTo(
                "hourglass: --store-timeout must be a duration > 0 and at most 1d, was '0'");
        Run junk = run("server", "--port", "0", "--data", dir.toString(), "--store-timeout", "soon");
        assertThat(junk.code()).isEqualTo(2);
        assertThat(junk.errLines()).singleElement().asString().contains("--store-timeout").contains("soon");
        Run socket = run("server", "--store", "postgres", "--jdbc-url", "jdbc:postgresql://127.0.0.1:9/x",
                "--webhook-secret", ServerFixture.WEBHOOK_SECRET.encoded(), "--db-socket-timeout", "0.1");
        assertThat(socket.code()).isEqualTo(2);
        assertThat(socket.errLines()).singleElement().asString().contains("socketTimeout must be between");
    }

    @Test
    void versionNamesTheBuild() {
        Run r = run("--version");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("hourglass 0.1.0");
    }

    @Test
    void postgresWithoutAUrlIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--store", "postgres");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains("--jdbc-url");
    }

    @Test
    void anUnreachableDatabaseIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--store", "postgres", "--jdbc-url",
                "jdbc:postgresql://127.0.0.1:1/hourglass?password=secret",
                "--webhook-secret", ServerFixture.WEBHOOK_SECRET.encoded());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains("cannot open the PostgreSQL store").doesNotContain("secret");
    }

    @Test
    void aSchemaForTheSqliteStoreIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--db-schema", "hourglass");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains("--db-schema is for --store postgres");
    }

    @Test
    void aBadSchemaNameIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--store", "postgres", "--jdbc-url",
                "jdbc:postgresql://127.0.0.1:1/hourglass", "--db-schema", "Robert'); DROP TABLE jobs;--");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains("schema must be lower-case letters");
    }

    @Test
    void aTooLongNodeIdIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--node-id", "n".repeat(101));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains("--node-id").contains("1..100 characters");
    }

    @Test
    void anUnknownStoreIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "0", "--store", "mongodb");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains("sqlite or postgres");
    }

    @Test
    void aBusyPortIsOneLineAndExitCode2() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = busy.getLocalPort();
            Run r = run("server", "--port", Integer.toString(port), "--data", dir.toString());
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.errLines()).hasSize(1);
            assertThat(r.errLines().getFirst()).contains(Integer.toString(port)).contains("in use");
        }
    }

    @Test
    void aDataPathThatIsAFileIsOneLineAndExitCode2() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        Run r = run("server", "--port", "0", "--data", file.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains(file.toString()).contains("not a directory");
    }

    @Test
    void aStoreLockedByAnotherServerIsOneLineAndExitCode2() {
        try (ServerFixture running = ServerFixture.start(dir)) {
            Run r = run("server", "--port", "0", "--data", dir.toString());
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.errLines()).hasSize(1);
            assertThat(r.errLines().getFirst()).contains("hourglass.db").contains("in use");
        }
    }

    @Test
    void aBadOptionValueIsOneLineAndExitCode2() {
        Run r = run("server", "--port", "eighty");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).contains("--port").contains("eighty");

        Run range = run("server", "--port", "70000", "--data", dir.toString());
        assertThat(range.code()).isEqualTo(2);
        assertThat(range.errLines()).singleElement().asString().contains("port").contains("70000");
    }

    @Test
    void anUnknownCommandIsExitCode2() {
        Run r = run("frobnicate");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("frobnicate");
    }

    /** The real process: exit code 2 from the JVM and one line on stderr, no stack trace. */
    @Test
    void theProcessExitsWith2AndOneLineOnABusyPort() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Process p = java("server", "--port", Integer.toString(busy.getLocalPort()), "--data", dir.toString())
                    .start();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).isEqualTo(2);
            assertThat(err.lines().filter(l -> !l.isBlank()).toList()).singleElement().asString()
                    .startsWith("hourglass: ").contains(Integer.toString(busy.getLocalPort()));
        }
    }

    /** The real process: prints where it listens, serves, and stops cleanly on SIGTERM. */
    @Test
    void theProcessServesAndStopsGracefullyOnSigterm() throws Exception {
        Process p = java("server", "--port", "0", "--data", dir.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile(
                    "^Hourglass listening on http://127\\.0\\.0\\.1:(\\d+) \\(store: (.+hourglass\\.db)\\)$");
            List<String> lines = new ArrayList<>();
            Matcher m = null;
            String line;
            while ((line = out.readLine()) != null) {
                lines.add(line);
                Matcher candidate = listening.matcher(line);
                if (candidate.matches()) {
                    m = candidate;
                    break;
                }
            }
            assertThat(m).as("the listening line, in %s", lines).isNotNull();
            assertThat(Path.of(m.group(2))).isAbsolute().isEqualTo(dir.resolve("hourglass.db").toAbsolutePath());
            var client = HttpClient.newHttpClient();
            var health = ApiContract.check(client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + m.group(1) + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()));
            assertThat(health.statusCode()).isEqualTo(200);

            p.toHandle().destroy(); // SIGTERM (through the handle: Process.destroy would also close our pipes)
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("stopped after SIGTERM").isTrue();
            StringBuilder rest = new StringBuilder();
            while ((line = out.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertThat(rest.toString()).contains("stopped").doesNotContain("Exception");
            // The first start generates the webhook secret, keeps it (owner-only) and shows it this once.
            Path secretFile = dir.resolve("webhook-secret").toAbsolutePath();
            String secret = Files.readString(secretFile).strip();
            assertThat(Files.getPosixFilePermissions(secretFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(rest.toString())
                    .contains("Webhooks are signed with the secret in " + secretFile + " (key id "
                            + SigningSecret.parse(secret).keyId() + ")")
                    .contains("New webhook signing secret, shown only this once (give it to your receivers): " + secret)
                    .contains("Webhook allowlist: 127.0.0.0/8")
                    .containsPattern("API key of tenant 'default', shown only this once .*: hgk_[A-Za-z0-9_-]{43}\n")
                    .contains("Admin API: off (set HOURGLASS_ADMIN_KEY to manage tenants)")
                    .containsPattern("Metrics: http://127\\.0\\.0\\.1:\\d+/metrics\n");
            assertThat(p.exitValue()).isEqualTo(143); // 128 + SIGTERM: the JVM's exit status after the hooks ran
        } finally {
            p.destroyForcibly();
        }
    }

    private static ProcessBuilder java(String... args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", classpath, Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("HOURGLASS_WEBHOOK_ALLOWLIST", "127.0.0.0/8"); // as every test server: loopback, explicitly
        pb.environment().remove("HOURGLASS_ADMIN_KEY"); // the tests say which keys a server has
        pb.environment().remove("HOURGLASS_DEFAULT_API_KEY");
        return pb;
    }
}
