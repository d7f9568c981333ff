package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.ADMIN_KEY;
import static dev.hourglass.server.ServerFixture.API_KEY;
import static dev.hourglass.server.ServerFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.hourglass.server.ServerFixture.Response;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Limits on what a client may send, and no key in any log line. */
class HttpHardeningTest {
    @TempDir
    Path dir;

    /** Sends raw bytes and returns the status line (or what the server answered, or "" when it just closed). */
    private static String raw(ServerFixture api, String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", api.server().port())) {
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

    @Test
    void oversizedHeadersAndTooManyHeadersAreRefused() throws Exception {
        try (ServerFixture api = ServerFixture.start(dir)) {
            String big = "GET /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + API_KEY + "\r\nX-Big: "
                    + "a".repeat(100 * 1024) + "\r\n\r\n";
            assertThat(raw(api, big)).as("a 100 KiB header").doesNotContain(" 200");
            StringBuilder many = new StringBuilder("GET /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + API_KEY + "\r\n");
            for (int i = 0; i < 150; i++) {
                many.append("X-H").append(i).append(": v\r\n");
            }
            assertThat(raw(api, many.append("\r\n").toString())).as("150 headers").doesNotContain(" 200");
            String fine = "GET /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + API_KEY
                    + "\r\nConnection: close\r\n\r\n";
            assertThat(raw(api, fine)).isEqualTo("HTTP/1.1 200 OK");
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
