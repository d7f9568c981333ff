package dev.hourglass.server;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.semconv.ServiceAttributes;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenTelemetry the server traces with. With none of the variables that ask for traces set, it is
 * {@link OpenTelemetry#noop()}: no SDK, no exporter, no thread, and a job's {@code traceparent} is forwarded to its
 * webhook as it came. When {@code OTEL_EXPORTER_OTLP_ENDPOINT}, {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} or
 * {@code OTEL_TRACES_EXPORTER} (or their {@code otel.*} system properties) is set, it is the OpenTelemetry SDK as the
 * standard variables configure it (autoconfigure: endpoint, headers, timeout, sampler, resource, batch sizes), with
 * defaults of its own: the service name {@code hourglass}, OTLP over HTTP/protobuf sent by the JDK's HTTP client
 * (the {@code grpc} protocol is not available: its sender would bring OkHttp), and no metrics or logs exported (the
 * server sends traces only).
 *
 * <p>{@link #close()} shuts an SDK built here down, exporting the spans still buffered; an OpenTelemetry given by
 * the embedder is the embedder's to shut down.
 */
final class ServerTelemetry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerTelemetry.class);
    /** Any of these set (environment or system property) turns tracing on. */
    static final List<String> TRACES_ON = List.of("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_TRACES_EXPORTER");
    static final String SERVICE_NAME = "hourglass";
    /**
     * The defaults that differ from the SDK's: OTLP over HTTP (the JDK's client sends it; gRPC would need OkHttp or
     * grpc-java), and traces only.
     */
    static final Map<String, String> DEFAULTS = Map.of("otel.exporter.otlp.protocol", "http/protobuf",
            "otel.metrics.exporter", "none", "otel.logs.exporter", "none");
    /** How long a shutdown waits for the last spans to be exported. */
    static final long SHUTDOWN_SECONDS = 10;

    private final OpenTelemetry openTelemetry;
    private final OpenTelemetrySdk owned;

    private ServerTelemetry(OpenTelemetry openTelemetry, OpenTelemetrySdk owned) {
        this.openTelemetry = openTelemetry;
        this.owned = owned;
    }

    /** The embedder's OpenTelemetry, left running at {@link #close()}. */
    static ServerTelemetry of(OpenTelemetry openTelemetry) {
        return new ServerTelemetry(Objects.requireNonNull(openTelemetry, "openTelemetry"), null);
    }

    /** As the process environment and system properties say (see the class comment). */
    static ServerTelemetry fromEnvironment() {
        return from(System.getenv(), name -> System.getProperty(name));
    }

    /**
     * @param environment the environment variables
     * @param systemProperty the system property of a name, or null
     * @throws StartupException when the variables configure the SDK wrongly
     */
    static ServerTelemetry from(Map<String, String> environment, UnaryOperator<String> systemProperty) {
        if (!tracesRequested(environment, systemProperty)) {
            return of(OpenTelemetry.noop());
        }
        try {
            OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                    .addPropertiesSupplier(() -> DEFAULTS)
                    .addResourceCustomizer((resource, config) -> withServiceName(resource))
                    .disableShutdownHook() // close() shuts it down, after the last attempt
                    .build()
                    .getOpenTelemetrySdk();
            log.info("tracing on: OpenTelemetry SDK configured from the OTEL_* variables");
            return new ServerTelemetry(sdk, sdk);
        } catch (ConfigurationException e) {
            throw new StartupException("invalid OpenTelemetry settings (OTEL_*): " + reason(e), e);
        }
    }

    /** The message of the deepest cause: autoconfigure wraps a sender it cannot find as "Unexpected ... error". */
    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    static boolean tracesRequested(Map<String, String> environment, UnaryOperator<String> systemProperty) {
        for (String variable : TRACES_ON) {
            String property = variable.toLowerCase(java.util.Locale.ROOT).replace('_', '.');
            if (given(environment.get(variable)) || given(systemProperty.apply(property))) {
                return true;
            }
        }
        return false;
    }

    private static boolean given(String value) {
        return value != null && !value.isBlank();
    }

    /** {@code hourglass} unless the variables named the service ({@code OTEL_SERVICE_NAME}, resource attributes). */
    private static Resource withServiceName(Resource resource) {
        String name = resource.getAttribute(ServiceAttributes.SERVICE_NAME);
        if (name == null || name.startsWith("unknown_service")) {
            return resource.merge(Resource.builder().put(ServiceAttributes.SERVICE_NAME, SERVICE_NAME).build());
        }
        return resource;
    }

    OpenTelemetry openTelemetry() {
        return openTelemetry;
    }

    /** Shuts an SDK built here down, exporting what is buffered (bounded by {@link #SHUTDOWN_SECONDS}). */
    @Override
    public void close() {
        if (owned == null) {
            return;
        }
        CompletableResultCode done = owned.shutdown().join(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
        if (!done.isSuccess()) {
            log.warn("tracing: the last spans could not all be exported within {} s", SHUTDOWN_SECONDS);
        }
    }
}
