package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server's OpenTelemetry: none unless a standard variable asks for traces; then the SDK, exporting OTLP over the
 * JDK's HTTP client (no OkHttp on the class path) to the configured endpoint, flushed at close.
 */
class ServerTelemetryTest {
    private static final String ENDPOINT_PROPERTY = "otel.exporter.otlp.endpoint";
    private static final String PROTOCOL_PROPERTY = "otel.exporter.otlp.protocol";

    @AfterEach
    void clearProperties() {
        System.clearProperty(ENDPOINT_PROPERTY);
        System.clearProperty(PROTOCOL_PROPERTY);
    }

    @Test
    void withNothingSetThereIsNoSdk() {
        try (ServerTelemetry telemetry = ServerTelemetry.from(Map.of(), name -> null)) {
            assertThat(telemetry.openTelemetry()).isSameAs(OpenTelemetry.noop());
        }
        assertThat(ServerTelemetry.tracesRequested(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", " "), name -> null))
                .as("an empty value counts as not set").isFalse();
    }

    @Test
    void anyOfTheStandardVariablesTurnsTracesOn() {
        for (String variable : ServerTelemetry.TRACES_ON) {
            assertThat(ServerTelemetry.tracesRequested(Map.of(variable, "x"), name -> null)).as(variable).isTrue();
            String property = variable.toLowerCase(java.util.Locale.ROOT).replace('_', '.');
            assertThat(ServerTelemetry.tracesRequested(Map.of(), name -> name.equals(property) ? "x" : null))
                    .as(property).isTrue();
        }
    }

    @Test
    void spansGoToTheOtlpEndpointOverTheJdkClientAndCloseFlushesThem() throws IOException {
        List<String> received = new CopyOnWriteArrayList<>();
        HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        collector.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            // The protobuf keeps strings as they are: the resource's service name and the span's name are readable.
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " "
                    + exchange.getRequestHeaders().getFirst("Content-Type") + " "
                    + new String(body, StandardCharsets.ISO_8859_1));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        try {
            System.setProperty(ENDPOINT_PROPERTY, "http://127.0.0.1:" + collector.getAddress().getPort());
            try (ServerTelemetry telemetry = ServerTelemetry.from(Map.of(), System::getProperty)) {
                assertThat(telemetry.openTelemetry()).isInstanceOf(OpenTelemetrySdk.class);
                telemetry.openTelemetry().getTracer("test").spanBuilder("the-span").startSpan().end();
                assertThat(received).as("batched, not sent yet").isEmpty();
            }
            assertThat(received).singleElement().asString()
                    .startsWith("POST /v1/traces application/x-protobuf ")
                    .contains("service.name", "hourglass", "the-span");
        } finally {
            collector.stop(0);
        }
        assertNoOkHttp();
    }

    @Test
    void aBadSettingStopsTheStartWithOneLine() {
        System.setProperty(ENDPOINT_PROPERTY, "not a url");
        assertThatThrownBy(() -> ServerTelemetry.from(Map.of(), System::getProperty))
                .isInstanceOf(StartupException.class)
                .hasMessageStartingWith("invalid OpenTelemetry settings (OTEL_*): ");
    }

    @Test
    void grpcIsRefusedWithTheReason() {
        System.setProperty(ENDPOINT_PROPERTY, "http://127.0.0.1:4317");
        System.setProperty(PROTOCOL_PROPERTY, "grpc");
        assertThatThrownBy(() -> ServerTelemetry.from(Map.of(), System::getProperty))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("GrpcSenderProvider");
    }

    /** OkHttp is left out: the JDK's client sends. */
    private static void assertNoOkHttp() {
        assertThatThrownBy(() -> Class.forName("okhttp3.OkHttpClient")).isInstanceOf(ClassNotFoundException.class);
    }
}
