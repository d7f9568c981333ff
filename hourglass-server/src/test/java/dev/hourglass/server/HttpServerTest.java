package dev.hourglass.server;

import static dev.hourglass.server.ServerFixture.API_KEY;
import static dev.hourglass.server.ServerFixture.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.http.ApiServer;
import dev.hourglass.http.HttpLimits;
import dev.hourglass.http.HttpOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server itself, over real sockets: every answer it gives on its own (framing errors, limits) is a problem
 * like the API's, its limits come from configuration, it serves TLS, stops within its deadline, and logs each request
 * by route, never by id or key.
 */
class HttpServerTest {
    private static final String AUTH = "Authorization: Bearer " + API_KEY + "\r\n";

    @TempDir
    static Path shared;

    private static ServerFixture api;

    @BeforeAll
    static void start() {
        api = ServerFixture.start(shared.resolve("data"));
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    /** A raw answer: status, headers as sent (names in their case), body. */
    record Raw(int status, Map<String, String> headers, String body) {
        JsonNode problem(int expectedStatus, String field) {
            assertThat(status).as(body).isEqualTo(expectedStatus);
            assertThat(headers).containsEntry("Content-Type", "application/problem+json");
            try {
                JsonNode p = JSON.readTree(body);
                assertThat(p.get("status").asInt()).isEqualTo(expectedStatus);
                assertThat(p.get("type").asText()).startsWith("urn:hourglass:problem:");
                assertThat(p.get("detail").asText()).contains(field);
                assertThat(body).doesNotContain("Exception").doesNotContain("<html");
                return p;
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    /** Sends {@code request} as is on a new connection and reads the answer until the server closes it. */
    static Raw raw(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return read(socket.getInputStream());
        }
    }

    /** Reads one answer (headers, then Content-Length bytes or everything up to the end of the stream). */
    static Raw read(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed without an answer; read: " + head);
            }
            head.append((char) b);
        }
        String[] lines = head.toString().split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon), lines[i].substring(colon + 1).strip());
        }
        String length = headers.get("Content-Length");
        byte[] body = length != null ? in.readNBytes(Integer.parseInt(length)) : in.readAllBytes();
        return new Raw(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    @Test
    void protocolErrorsAreProblemsNamingTheField() throws IOException {
        int port = api.server().port();
        String close = "Host: x\r\nConnection: close\r\n";
        raw(port, "GET /v1/jobs?state=%zz HTTP/1.1\r\n" + close + AUTH + "\r\n").problem(400, "query");
        raw(port, "POST /v1/jobs HTTP/1.1\r\n" + close + AUTH + "Content-Type: application/json\r\n"
                + "Content-Length: 12x\r\n\r\n{}").problem(400, "Content-Length");
        raw(port, "POST /v1/jobs HTTP/1.1\r\n" + close + AUTH + "Content-Type: application/json\r\n"
                + "Content-Length: -3\r\n\r\n{}").problem(400, "Content-Length");
        raw(port, "POST /v1/jobs HTTP/1.1\r\n" + close + AUTH + "Content-Type: application/json\r\n"
                + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
                .problem(400, "Transfer-Encoding");
        Raw options = raw(port, "OPTIONS * HTTP/1.1\r\n" + close + "\r\n");
        assertThat(options.status()).isBetween(400, 499);
        options.problem(options.status(), options.status() == 404 ? "*" : "path");
        raw(port, "GET /nothing/here HTTP/1.1\r\n" + close + "\r\n").problem(404, "/nothing/here");
        Raw wrongMethod = raw(port, "PUT /v1/jobs HTTP/1.1\r\n" + close + AUTH + "Content-Length: 0\r\n\r\n");
        wrongMethod.problem(405, "PUT");
        assertThat(wrongMethod.headers()).containsEntry("Allow", "GET, POST");
        raw(port, "GET /v1/jobs HTTP/1.1\r\n" + close + AUTH + "X-Big: " + "a".repeat(100 * 1024) + "\r\n\r\n")
                .problem(431, "headers");
        StringBuilder many = new StringBuilder("GET /v1/jobs HTTP/1.1\r\n" + close + AUTH);
        for (int i = 0; i < 150; i++) {
            many.append("X-H").append(i).append(": v\r\n");
        }
        raw(port, many.append("\r\n").toString()).problem(431, "headers");
        raw(port, "GET /v1/jobs HTTP/1.1\r\nHost x\r\n" + close + "\r\n").problem(400, "");
        raw(port, "GET /v1/jobs HTTP/1.1\r\n" + close + AUTH + "\r\n").headers().forEach((name, value) ->
                assertThat(name).as("a header name in its canonical case")
                        .isIn("Content-Type", "Content-Length", "Transfer-Encoding", "Connection", "Date"));
    }

    @Test
    void bodiesOverTheLimitAre413WhateverTheirFraming() throws IOException {
        int port = api.server().port();
        String head = "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + AUTH
                + "Content-Type: application/json\r\n";
        raw(port, head + "Content-Length: 2000000\r\n\r\n{").problem(413, "body");
        String chunk = "a".repeat(64 * 1024);
        StringBuilder chunked = new StringBuilder(head + "Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 20; i++) {
            chunked.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        raw(port, chunked.append("0\r\n\r\n").toString()).problem(413, "body");
        assertThat(api.allJobs()).isEmpty();
    }

    @Test
    void unauthorizedAnswersSpellTheirHeadersCanonically() throws IOException {
        Raw r = raw(api.server().port(), "GET /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        r.problem(401, "Authorization");
        assertThat(r.headers()).containsKey("WWW-Authenticate").containsKey("Content-Type");
    }

    @Test
    void requestsBeyondTheConcurrencyLimitAre503AndConnectionsBeyondTheirLimitWait(@TempDir Path dir)
            throws Exception {
        ServerConfig config = ServerFixture.config(dir).withHttp(HttpLimits.DEFAULTS.withMaxConcurrentRequests(1)
                .withMaxConnections(2));
        try (ServerFixture limited = ServerFixture.start(config);
                Socket slow = new Socket("127.0.0.1", limited.server().port())) {
            int port = limited.server().port();
            // A request whose body never comes: in progress until the test ends.
            slow.getOutputStream().write(("POST /v1/jobs HTTP/1.1\r\nHost: x\r\n" + AUTH
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                    .getBytes(StandardCharsets.UTF_8));
            slow.getOutputStream().flush();
            Thread.sleep(300);
            Raw refused = raw(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            refused.problem(503, "requests");
            assertThat(refused.headers()).containsEntry("Retry-After", "1");

            // Two connections are open (the slow one and this one); a third waits until one closes.
            try (Socket second = new Socket("127.0.0.1", port); Socket third = new Socket("127.0.0.1", port)) {
                third.setSoTimeout(1_000);
                third.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.UTF_8));
                assertThatThrownBy(() -> third.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
                slow.close();
                second.close();
                third.setSoTimeout(10_000);
                assertThat(read(third.getInputStream()).status()).isIn(200, 503);
            }
        }
    }

    @Test
    void idleConnectionsAreClosed(@TempDir Path dir) throws Exception {
        ServerConfig config = ServerFixture.config(dir).withHttp(HttpLimits.DEFAULTS
                .withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(30)));
        try (ServerFixture limited = ServerFixture.start(config);
                Socket idle = new Socket("127.0.0.1", limited.server().port())) {
            idle.setSoTimeout(10_000);
            idle.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            assertThat(read(idleStream(idle)).status()).isEqualTo(200);
            long started = System.nanoTime();
            assertThat(idle.getInputStream().read()).as("closed by the server").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }
    }

    private static InputStream idleStream(Socket socket) throws IOException {
        // Reads exactly one answer without consuming what follows (the end of the stream).
        InputStream in = socket.getInputStream();
        return new InputStream() {
            @Override
            public int read() throws IOException {
                return in.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return in.read(b, off, len);
            }
        };
    }

    @Test
    void stopsWithinItsMillisecondDeadlineWhileARequestHangs(@TempDir Path dir) throws Exception {
        ServerConfig config = ServerFixture.config(dir).withStopGrace(Duration.ofMillis(300));
        ServerFixture server = ServerFixture.start(config);
        try (Socket hanging = new Socket("127.0.0.1", server.server().port())) {
            hanging.getOutputStream().write(("POST /v1/jobs HTTP/1.1\r\nHost: x\r\n" + AUTH
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                    .getBytes(StandardCharsets.UTF_8));
            hanging.getOutputStream().flush();
            Thread.sleep(200);
            long started = System.nanoTime();
            server.close();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void theAccessLogNamesRoutesAndTenantsNeverIdsOrKeys() {
        Logger accessLog = (Logger) LoggerFactory.getLogger(ApiServer.ACCESS_LOG);
        Level configured = accessLog.getLevel();
        accessLog.setLevel(Level.INFO); // as HOURGLASS_ACCESS_LOG=INFO does
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        accessLog.addAppender(lines);
        try {
            JsonNode job = api.schedule("{\"delaySeconds\": 3600, \"target\": {\"type\": \"webhook\", "
                    + "\"url\": \"http://127.0.0.1:9/hook\"}}");
            String id = job.get("id").asText();
            api.get("/v1/jobs/" + id, ServerFixture.bearer(API_KEY));
            api.get("/v1/jobs/" + id + "/nothing", ServerFixture.bearer(API_KEY));
            // Logged just after the answer is written.
            await().atMost(Duration.ofSeconds(5)).until(() -> lines.list.size() >= 3);
            List<String> logged = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            assertThat(logged).anySatisfy(l -> assertThat(l).startsWith("POST /v1/jobs 201 ")
                    .endsWith("tenant=default"));
            assertThat(logged).anySatisfy(l -> assertThat(l).startsWith("GET /v1/jobs/{id} 200 ")
                    .matches(".* \\d+\\.\\d{3}ms tenant=default"));
            assertThat(logged).anySatisfy(l -> assertThat(l).startsWith("GET (unmatched) 404 "));
            assertThat(logged).allSatisfy(l -> assertThat(l).doesNotContain(id).doesNotContain(API_KEY));
        } finally {
            accessLog.detachAppender(lines);
            accessLog.setLevel(configured);
        }
    }

    @Test
    void servesHttpsWithPemFiles(@TempDir Path dir) throws Exception {
        Path keystore = dir.resolve("self.p12");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path keytool = Path.of(java).resolveSibling("keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "hg", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2",
                "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", "changeit")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isZero();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, "changeit".toCharArray());
        }
        PrivateKey key = (PrivateKey) store.getKey("hg", "changeit".toCharArray());
        Certificate cert = store.getCertificate("hg");
        Path certPem = Files.writeString(dir.resolve("cert.pem"), pem("CERTIFICATE", cert.getEncoded()));
        Path keyPem = Files.writeString(dir.resolve("key.pem"), pem("PRIVATE KEY", key.getEncoded()));

        ServerConfig config = ServerFixture.config(dir.resolve("data")).withHttp(HttpLimits.DEFAULTS
                .withTls(new HttpOptions.TlsFiles(certPem, keyPem)));
        try (ServerFixture tls = ServerFixture.start(config)) {
            URI base = tls.server().baseUri();
            assertThat(base.getScheme()).isEqualTo("https");
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("hg", CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(cert.getEncoded())));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            try (HttpClient client = HttpClient.newBuilder().sslContext(ssl).build()) {
                HttpResponse<String> r = client.send(ServerFixture.authorized(base.resolve("/v1/jobs")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.sslSession()).isPresent();
            }
            // Plain HTTP on the TLS port is not served.
            try (Socket plain = new Socket("127.0.0.1", tls.server().port())) {
                plain.setSoTimeout(10_000);
                plain.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.UTF_8));
                byte[] answer = plain.getInputStream().readNBytes(12);
                assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotStartWith("HTTP/1.1 200");
            } catch (IOException e) {
                // reset: refused, as it should be
            }
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    @Test
    void aMissingTlsKeyIsAStartupErrorNamingIt(@TempDir Path dir) {
        ServerConfig config = ServerFixture.config(dir).withHttp(HttpLimits.DEFAULTS
                .withTls(new HttpOptions.TlsFiles(dir.resolve("none.pem"), dir.resolve("none.key"))));
        assertThatThrownBy(() -> HourglassServer.start(config)).isInstanceOf(StartupException.class)
                .hasMessageContaining("TLS").satisfies(e -> assertThat(e.getMessage().toLowerCase(Locale.ROOT))
                        .contains("none.key"));
    }
}
