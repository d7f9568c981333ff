package dev.hourglass.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.ApiContract;
import dev.hourglass.server.ServerFixture;
import dev.hourglass.server.config.Setting;
import dev.hourglass.server.config.Settings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hourglass server} configured by flags, environment variables and a configuration file, through the real
 * command line: the precedence, the errors, {@code --print-config}, and the help naming every variable read.
 */
class ServerConfigurationCliTest {
    private static final String STRONG_ADMIN_KEY = "0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Run(code, out.toString(), err.toString());
    }

    private Path config(String text) throws IOException {
        return Files.writeString(dir.resolve("hourglass.properties"), text);
    }

    @Test
    void aFlagWinsOverTheEnvironmentWhichWinsOverTheFileWhichWinsOverTheDefault() throws Exception {
        Path file = config("horizon=40s\nport=1111\n");
        Map<String, String> env = new HashMap<>(Map.of("HOURGLASS_CONFIG", file.toString(),
                "HOURGLASS_HORIZON", "50s"));

        Run flag = run(env, "server", "--print-config", "--horizon", "60s");
        assertThat(flag.code()).as(flag.err()).isZero();
        assertThat(flag.out()).contains("horizon = 60s (flag --horizon)\n")
                .contains("port = 1111 (file " + file + ")\n")
                .contains("config = " + file + " (env HOURGLASS_CONFIG)\n")
                .contains("lease-ttl = 10s (default)\n");

        assertThat(run(env, "server", "--print-config").out()).contains("horizon = 50s (env HOURGLASS_HORIZON)\n");
        env.remove("HOURGLASS_HORIZON");
        assertThat(run(env, "server", "--print-config").out()).contains("horizon = 40s (file " + file + ")\n");
        env.remove("HOURGLASS_CONFIG");
        Run defaults = run(env, "server", "--print-config");
        assertThat(defaults.out()).contains("horizon = 30s (default)\n").contains("port = 8080 (default)\n")
                .contains("jdbc-url = (not set)\n")
                .contains("node-id = (not set: $HOSTNAME-pid)\n");
    }

    @Test
    void printConfigHidesSecretsWhereverTheyComeFrom() throws Exception {
        Path file = config("default-api-key=" + ServerFixture.API_KEY + "\n");
        Run r = run(Map.of("HOURGLASS_CONFIG", file.toString(), "HOURGLASS_ADMIN_KEY", STRONG_ADMIN_KEY),
                "server", "--print-config", "--webhook-secret", ServerFixture.WEBHOOK_SECRET.encoded());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("admin-key = (hidden) (env HOURGLASS_ADMIN_KEY)\n")
                .contains("default-api-key = (hidden) (file " + file + ")\n")
                .contains("webhook-secret = (hidden) (flag --webhook-secret)\n")
                .doesNotContain(STRONG_ADMIN_KEY).doesNotContain(ServerFixture.API_KEY)
                .doesNotContain(ServerFixture.WEBHOOK_SECRET.encoded().substring(6));
    }

    @Test
    void anUnknownKeyInTheFileIsOneLineAndExitCode2() throws Exception {
        Path file = config("port=0\nhorizn=40s\n");
        Run r = run(Map.of(), "server", "--config", file.toString(), "--print-config");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().isEqualTo("hourglass: config file " + file
                + ": unknown key 'horizn' (did you mean 'horizon'?)");
    }

    @Test
    void aMissingConfigFileIsOneLineAndExitCode2() {
        Path missing = dir.resolve("missing.properties");
        Run r = run(Map.of("HOURGLASS_CONFIG", missing.toString()), "server");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().isEqualTo("hourglass: config file " + missing + " does not exist");
    }

    @Test
    void aBadValueNamesTheSettingAsGiven() throws Exception {
        Run env = run(Map.of("HOURGLASS_RETENTION", "a week"), "server", "--print-config");
        assertThat(env.code()).isEqualTo(2);
        assertThat(env.errLines()).singleElement().asString()
                .startsWith("hourglass: HOURGLASS_RETENTION must be a duration such as").endsWith("was 'a week'");
        Path file = config("max-in-flight=lots\n");
        Run inFile = run(Map.of(), "server", "--config", file.toString(), "--print-config");
        assertThat(inFile.errLines()).singleElement().isEqualTo("hourglass: max-in-flight in " + file
                + " must be an integer from 1 to 2147483647, was 'lots'");
    }

    @Test
    void aWeakAdminKeyIsOneLineAndExitCode2AndNeverEchoed() {
        Run r = run(Map.of("HOURGLASS_ADMIN_KEY", "changeme"), "server", "--port", "0", "--data", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString()
                .startsWith("hourglass: HOURGLASS_ADMIN_KEY: the admin key must be at least 32 characters")
                .doesNotContain("changeme");
        assertThat(dir.resolve("hourglass.db")).as("refused before the store opens").doesNotExist();
    }

    /**
     * Every HOURGLASS_* variable the server's code names is in {@code server --help}; the tenant commands' own
     * (HOURGLASS_URL, the admin key they send) are in {@code tenant --help}. Reads the sources of every module the
     * server runs, so a variable read anywhere without its help fails here; the settings' own variables, made from
     * their keys, are checked one by one.
     */
    @Test
    void theHelpNamesEveryHourglassVariableTheCodeReads() throws IOException {
        Pattern variable = Pattern.compile("HOURGLASS_[A-Z0-9_]+");
        String serverHelp = run(Map.of(), "server", "--help").out();
        String tenantHelp = run(Map.of(), "tenant", "--help").out();
        String scheduleHelp = run(Map.of(), "schedule", "--help").out();
        List<String> modules = List.of("hourglass-core", "hourglass-store-jdbc", "hourglass-store-sqlite",
                "hourglass-store-postgres", "hourglass-webhook", "hourglass-tenancy", "hourglass-recurring",
                "hourglass-schedules", "hourglass-http", "hourglass-server");
        TreeSet<String> missing = new TreeSet<>();
        int files = 0;
        for (String module : modules) {
            Path sources = Path.of("..", module, "src", "main", "java");
            assertThat(sources).as("run from the module directory").isDirectory();
            List<Path> javaFiles;
            try (Stream<Path> walk = Files.walk(sources)) {
                javaFiles = walk.filter(p -> p.toString().endsWith(".java")).toList();
            }
            for (Path source : javaFiles) {
                files++;
                String help = switch (source.getFileName().toString()) {
                    case "TenantCommand.java" -> tenantHelp;
                    // The API commands' shared request code names what both commands' help names.
                    case "ScheduleCommand.java", "ApiRequest.java" -> scheduleHelp;
                    default -> serverHelp;
                };
                Matcher m = variable.matcher(Files.readString(source));
                while (m.find()) {
                    if (!help.contains(m.group())) {
                        missing.add(m.group() + " (" + source.getFileName() + ")");
                    }
                }
            }
        }
        assertThat(files).isGreaterThan(50);
        assertThat(missing).as("variables the code names that the help does not").isEmpty();
        String unwrapped = serverHelp.replaceAll("\\s+", " ");
        for (Setting s : Settings.ALL) { // names made from a key by rule do not appear in the sources
            assertThat(serverHelp).as(s.name()).contains(s.env());
            if (s.key() != null) {
                assertThat(unwrapped).as(s.name()).contains("file key " + s.key());
            }
        }
        assertThat(serverHelp).contains("HOURGLASS_ADMIN_KEY", "HOURGLASS_DEFAULT_API_KEY", "HOURGLASS_DB_PASSWORD",
                "HOURGLASS_WEBHOOK_SECRETS", "HOURGLASS_CONFIG", "HOURGLASS_LEASE_TTL");
    }

    /**
     * The real process on a configuration file: it listens where the file says, takes the admin key from it (and
     * warns that others may read it), and stops cleanly.
     */
    @Test
    void theProcessRunsOnAConfigurationFile() throws Exception {
        Path file = config("""
                # hourglass server settings
                port=0
                data=%s
                horizon=45s
                webhook-allowlist=127.0.0.0/8
                admin-key=%s
                """.formatted(dir.resolve("data"), STRONG_ADMIN_KEY));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Process p = java("server", "--config", file.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile("^Hourglass listening on (http://127\\.0\\.0\\.1:\\d+) .*");
            List<String> lines = new ArrayList<>();
            String base = null;
            String line;
            while ((line = out.readLine()) != null) {
                lines.add(line);
                Matcher m = listening.matcher(line);
                if (m.matches()) {
                    base = m.group(1);
                }
                if (line.startsWith("Admin API:")) {
                    break;
                }
            }
            assertThat(base).as("the listening line, in %s", lines).isNotNull();
            assertThat(lines).contains("Configuration file: " + file.toAbsolutePath(),
                    "Warning: " + file + " holds a key or password and other users may read it: chmod 600 it, or "
                            + "move the secret to the environment",
                    "Webhook allowlist: 127.0.0.0/8",
                    "Admin API: on (/v1/admin/tenants, key from HOURGLASS_ADMIN_KEY)");
            assertThat(Files.exists(dir.resolve("data").resolve("hourglass.db"))).as("data= from the file").isTrue();
            var client = HttpClient.newHttpClient();
            var tenants = ApiContract.check(client.send(HttpRequest.newBuilder(URI.create(base + "/v1/admin/tenants"))
                    .header("Authorization", "Bearer " + STRONG_ADMIN_KEY).build(),
                    HttpResponse.BodyHandlers.ofString()));
            assertThat(tenants.statusCode()).as("the admin key from the file").isEqualTo(200);

            p.toHandle().destroy();
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("stopped after SIGTERM").isTrue();
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
        pb.environment().keySet().removeIf(name -> name.startsWith("HOURGLASS_"));
        return pb;
    }
}
