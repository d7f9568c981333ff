package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.API_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.hourglass.server.ServerFixture.Response;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Limits on what a client may send, and no key in any log line. */
class HttpHardeningTest {
    @TempDir
    Path dir;

    /** Sends raw bytes and returns the status line (or what the server answered, or "" when it just closed). */
    private static String raw(int port, String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readNBytes(200), StandardCharsets.ISO_8859_1);
            int eol = answer.indexOf("\r\n");
            return eol < 0 ? answer : answer.substring(0, eol);
        } catch (java.net.SocketException e) {
            return ""; // reset by the server
        }
    }

    /**
     * In a server process of its own, as operators run it: the JDK reads its header limits once per JVM, when the first
     * HTTP server is created, so in this test JVM another test's server may have fixed them first.
     */
    @Test
    void oversizedHeadersAndTooManyHeadersAreRefused() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", classpath, "dev.hourglass.server.cli.Main",
                "server", "--port", "0", "--data", dir.toString());
        pb.environment().put("HOURGLASS_DEFAULT_API_KEY", API_KEY);
        pb.redirectErrorStream(true);
        Process server = pb.start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile("Hourglass listening on http://127\\.0\\.0\\.1:(\\d+) .*");
            int port = -1;
            String line;
            while (port < 0 && (line = out.readLine()) != null) {
                Matcher m = listening.matcher(line);
                if (m.matches()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertThat(port).as("the server started").isPositive();
            String auth = "Host: x\r\nAuthorization: Bearer " + API_KEY + "\r\nConnection: close\r\n";
            String big = "GET /v1/jobs HTTP/1.1\r\n" + auth + "X-Big: " + "a".repeat(100 * 1024) + "\r\n\r\n";
            assertThat(raw(port, big)).as("a 100 KiB header").doesNotContain(" 200");
            StringBuilder many = new StringBuilder("GET /v1/jobs HTTP/1.1\r\n" + auth);
            for (int i = 0; i < 150; i++) {
                many.append("X-H").append(i).append(": v\r\n");
            }
            assertThat(raw(port, many.append("\r\n").toString())).as("150 headers").doesNotContain(" 200");
            assertThat(raw(port, "GET /v1/jobs HTTP/1.1\r\n" + auth + "\r\n")).isEqualTo("HTTP/1.1 200 OK");
        } finally {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void noKeyReachesTheLogs() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        try (ServerFixture api = ServerFixture.start(dir)) {
            Response created = api.post("/v1/admin/tenants", "{\"name\": \"acme\"}", bearer(ADMIN_KEY));
            String acmeKey = created.json().get("apiKey").asText();
            String issued = api.post("/v1/admin/tenants/acme/keys", "", bearer(ADMIN_KEY)).json().get("apiKey")
                    .asText();
            api.get("/v1/jobs", bearer(acmeKey));
            api.get("/v1/jobs", bearer("hgk_a-wrong-key-that-must-not-be-logged"));
            api.get("/v1/admin/tenants", bearer(acmeKey));
            api.post("/v1/jobs", "{broken", bearer(issued));
            api.server().close();
            for (ILoggingEvent event : logs.list) {
                assertThat(event.getFormattedMessage()).as(event.getLoggerName())
                        .doesNotContain(API_KEY).doesNotContain(ADMIN_KEY).doesNotContain(acmeKey)
                        .doesNotContain(issued).doesNotContain("a-wrong-key-that-must-not-be-logged");
            }
            assertThat(logs.list).as("the server did log").isNotEmpty();
        } finally {
            root.detachAppender(logs);
        }
    }
}
