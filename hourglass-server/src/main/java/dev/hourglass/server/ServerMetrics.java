package dev.hourglass.server;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.http.MetricsExposition;
import dev.hourglass.metrics.HourglassMetrics;
import dev.hourglass.metrics.TargetMeters;
import dev.hourglass.queues.QueueTargets;
import dev.hourglass.webhook.WebhookHandler;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The server's meters: one Prometheus registry holding the engine's ({@link HourglassMetrics}: jobs created by the
 * API, webhook deliveries, quota refusals, ...), the JVM's and the process's, served as {@link MetricsExposition}.
 */
final class ServerMetrics implements MetricsExposition, AutoCloseable {
    /** The two formats the registry writes, by the media types Prometheus asks for them with. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HourglassMetrics engine;
    private final JvmGcMetrics gc = new JvmGcMetrics();

    ServerMetrics(MetricsOptions options) {
        this.engine = HourglassMetrics.builder(registry)
                .source("api")
                .targetType(job -> job.handler().equals(WebhookHandler.NAME)
                        || job.handler().equals(OperationsEvents.HANDLER) ? WebhookHandler.TARGET_TYPE
                        : QueueTargets.isQueueType(job.handler()) ? job.handler() : DeliveryAttempt.IN_PROCESS)
                .tenantLabels(options.tenantLabels())
                .pendingEvery(options.pendingEvery())
                .build();
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** The binding the engine, the webhook handler and the quota gate report to. */
    HourglassMetrics engine() {
        return engine;
    }

    /** The target monitor's meters ({@link TargetMeters}): its changes as {@code targets} tells them. */
    void bindTargets(TargetWatch targets, TargetMonitor monitor) {
        targets.alsoTell(new TargetMeters(registry, engine.tenantLabels(), monitor));
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public Scrape scrape(String accept) {
        String type = accept != null && accept.toLowerCase(Locale.ROOT).contains("application/openmetrics-text")
                ? OPEN_METRICS : PROMETHEUS_TEXT;
        return new Scrape(type, registry.scrape(type).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
