package dev.hourglass.server;

import dev.hourglass.metrics.HourglassMetrics;
import java.time.Duration;
import java.util.Objects;

/**
 * Whether and where the server serves its metrics ({@code GET /metrics}, Prometheus text or OpenMetrics).
 *
 * @param enabled false turns the meters and the endpoint off
 * @param port a separate port for {@code /metrics} alone, without authentication (bind it where only the
 *     monitoring system reaches); -1 serves it on the API port, where it takes the admin key when one is set
 * @param tenantLabels how many tenants get a {@code tenant} label of their own; the rest are {@code other}
 * @param pendingEvery how often the pending-jobs gauges are sampled from the store
 */
public record MetricsOptions(boolean enabled, int port, int tenantLabels, Duration pendingEvery) {
    public static final int ON_API_PORT = -1;
    public static final int DEFAULT_TENANT_LABELS = HourglassMetrics.DEFAULT_TENANT_LABELS;
    public static final Duration DEFAULT_PENDING_EVERY = HourglassMetrics.DEFAULT_PENDING_EVERY;
    public static final MetricsOptions DEFAULTS = new MetricsOptions(true, ON_API_PORT, DEFAULT_TENANT_LABELS,
            DEFAULT_PENDING_EVERY);

    public MetricsOptions {
        Objects.requireNonNull(pendingEvery, "pendingEvery");
    }

    public MetricsOptions withEnabled(boolean value) {
        return new MetricsOptions(value, port, tenantLabels, pendingEvery);
    }

    public MetricsOptions withPort(int value) {
        return new MetricsOptions(enabled, value, tenantLabels, pendingEvery);
    }

    public MetricsOptions withTenantLabels(int value) {
        return new MetricsOptions(enabled, port, value, pendingEvery);
    }

    public MetricsOptions withPendingEvery(Duration value) {
        return new MetricsOptions(enabled, port, tenantLabels, value);
    }

    /** Whether {@code /metrics} has a port of its own. */
    public boolean ownPort() {
        return port != ON_API_PORT;
    }

    /** @throws StartupException naming the setting and the rule */
    MetricsOptions validate() {
        if (port != ON_API_PORT && (port < 0 || port > 65_535)) {
            throw new StartupException("metrics-port must be between 0 and 65535, was " + port);
        }
        if (tenantLabels < 0) {
            throw new StartupException("metrics-tenant-labels must be >= 0, was " + tenantLabels);
        }
        if (pendingEvery.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new StartupException("metrics-pending-every must be at least 1s, was " + pendingEvery);
        }
        return this;
    }
}
