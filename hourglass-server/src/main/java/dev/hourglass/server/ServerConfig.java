package dev.hourglass.server;

import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.http.ApiHandler;
import dev.hourglass.http.HttpLimits;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.tenancy.TargetSettings;
import dev.hourglass.webhook.WebhookHandler;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.webhook.address.WebhookAllowlist;
import dev.hourglass.webhook.signing.SigningSecret;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to run an {@link HourglassServer}. Immutable; {@link #defaults()} plus {@code with...} for the rest.
 *
 * @param bind the address to listen on
 * @param port the port to listen on; 0 picks a free one ({@link HourglassServer#port()} tells which)
 * @param dataDir the directory that holds the store file {@value #STORE_FILE}; created if missing
 * @param engine the engine settings, or null for {@link EngineConfig#defaults} with a node id of this process
 * @param maxBodyBytes the largest request body read; a larger one is answered 413 without reading it all
 * @param webhookConnectTimeout how long a webhook delivery may take to connect
 * @param stopGrace how long {@link HourglassServer#close()} lets requests in progress finish
 * @param postgres the PostgreSQL store to run on, or null for the embedded SQLite store in {@code dataDir}
 * @param storeTimeout the longest an API request waits for the store (its commit, or its read) before it is
 *     answered 503 with {@code Retry-After}: the bound on a request while the database is unreachable
 * @param webhookSecrets the secrets webhooks are signed with, newest first; empty means the one kept in
 *     {@code dataDir/webhook-secret}, generated on the first start (SQLite only: on PostgreSQL every node must be
 *     given the same secrets, so they are required)
 * @param webhookAllowlist the blocked addresses (loopback, private, link-local, metadata, ...) that webhooks may
 *     reach all the same; none by default
 * @param keys the admin key and the preset key of the {@code default} tenant, if given
 * @param http the HTTP server's limits (headers, connections, concurrent requests, timeouts) and TLS
 * @param metrics whether and where {@code /metrics} is served, and how its labels are bounded
 * @param targets the server's target settings ({@code --target-auto-pause}, {@code --target-auto-pause-after},
 *     {@code --operations-webhook}, the alarm thresholds at their defaults): those of the {@code default} tenant and
 *     of tenants without a row ({@link dev.hourglass.tenancy.TenantDirectory#targetSettings})
 * @param watching how the target monitor runs (not a command-line setting: {@link TargetWatching})
 * @param connections the named queue connections jobs may deliver to ({@code --connection NAME=URI}; docs/queues.md)
 */
public record ServerConfig(
        String bind,
        int port,
        Path dataDir,
        EngineConfig engine,
        int maxBodyBytes,
        Duration webhookConnectTimeout,
        Duration stopGrace,
        PostgresOptions postgres,
        Duration storeTimeout,
        List<SigningSecret> webhookSecrets,
        WebhookAllowlist webhookAllowlist,
        ServerKeys keys,
        HttpLimits http,
        MetricsOptions metrics,
        TargetSettings targets,
        TargetWatching watching,
        List<QueueConnection> connections) {

    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final Path DEFAULT_DATA_DIR = Path.of("hourglass-data");
    public static final String STORE_FILE = "hourglass.db";
    public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(2);

    public ServerConfig {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(webhookConnectTimeout, "webhookConnectTimeout");
        Objects.requireNonNull(stopGrace, "stopGrace");
        Objects.requireNonNull(storeTimeout, "storeTimeout");
        webhookSecrets = List.copyOf(webhookSecrets);
        Objects.requireNonNull(webhookAllowlist, "webhookAllowlist");
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(watching, "watching");
        Objects.requireNonNull(targets, "targets");
        connections = List.copyOf(connections);
    }

    public static ServerConfig defaults() {
        return new ServerConfig(DEFAULT_BIND, DEFAULT_PORT, DEFAULT_DATA_DIR, null, ApiHandler.DEFAULT_MAX_BODY_BYTES,
                WebhookHandler.DEFAULT_CONNECT_TIMEOUT, DEFAULT_STOP_GRACE, null, ApiHandler.DEFAULT_STORE_TIMEOUT,
                List.of(), WebhookAllowlist.none(), ServerKeys.NONE, HttpLimits.DEFAULTS,
                MetricsOptions.DEFAULTS, TargetSettings.DEFAULTS, TargetWatching.DEFAULTS, List.of());
    }

    public ServerConfig withBind(String value) {
        return new ServerConfig(value, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace,
                postgres, storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    public ServerConfig withPort(int value) {
        return new ServerConfig(bind, value, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace,
                postgres, storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    public ServerConfig withDataDir(Path value) {
        return new ServerConfig(bind, port, value, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    public ServerConfig withEngine(EngineConfig value) {
        return new ServerConfig(bind, port, dataDir, value, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    public ServerConfig withMaxBodyBytes(int value) {
        return new ServerConfig(bind, port, dataDir, engine, value, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    public ServerConfig withWebhookConnectTimeout(Duration value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, value, stopGrace, postgres, storeTimeout,
                webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    public ServerConfig withStopGrace(Duration value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, value, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    /** Runs on PostgreSQL instead of the embedded SQLite file ({@code dataDir} is then unused). */
    public ServerConfig withPostgres(PostgresOptions value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, value,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    /** How long an API request waits for the store before it is answered 503. */
    public ServerConfig withStoreTimeout(Duration value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                value, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    /** Signs webhooks with these secrets (newest first) instead of the generated one. */
    public ServerConfig withWebhookSecrets(List<SigningSecret> value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, value, webhookAllowlist, keys, http, metrics, targets, watching, connections);
    }

    /** Lets webhooks reach these otherwise blocked addresses and host names. */
    public ServerConfig withWebhookAllowlist(WebhookAllowlist value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, value, keys, http, metrics, targets, watching, connections);
    }

    /** The admin API key and the default tenant's preset key. */
    public ServerConfig withKeys(ServerKeys value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, value, http, metrics, targets, watching, connections);
    }

    /** The HTTP server's limits and TLS. */
    public ServerConfig withHttp(HttpLimits value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, value, metrics, targets, watching, connections);
    }

    /** Whether and where the metrics are served. */
    public ServerConfig withMetrics(MetricsOptions value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, value, targets, watching, connections);
    }

    /** The server's target settings: the default tenant's, and those of tenants without a row. */
    public ServerConfig withWatching(TargetWatching value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, value, connections);
    }

    public ServerConfig withConnections(List<QueueConnection> value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, targets, watching, value);
    }

    public ServerConfig withTargets(TargetSettings value) {
        return new ServerConfig(bind, port, dataDir, engine, maxBodyBytes, webhookConnectTimeout, stopGrace, postgres,
                storeTimeout, webhookSecrets, webhookAllowlist, keys, http, metrics, value, watching, connections);
    }

    /**
     * Checks the values that do not depend on the machine (the port range, positive sizes and timeouts, the keys'
     * strength).
     *
     * @throws StartupException naming the setting and the rule
     */
    public ServerConfig validate() {
        if (port < 0 || port > 65_535) {
            throw new StartupException("port must be between 0 and 65535, was " + port);
        }
        if (bind.isBlank()) {
            throw new StartupException("bind address must not be empty");
        }
        if (maxBodyBytes < 1) {
            throw new StartupException("maxBodyBytes must be >= 1, was " + maxBodyBytes);
        }
        if (webhookConnectTimeout.isNegative() || webhookConnectTimeout.isZero()) {
            throw new StartupException("webhookConnectTimeout must be > 0, was " + webhookConnectTimeout);
        }
        if (stopGrace.isNegative()) {
            throw new StartupException("stopGrace must be >= 0, was " + stopGrace);
        }
        if (storeTimeout.isNegative() || storeTimeout.isZero()) {
            throw new StartupException("storeTimeout must be > 0, was " + storeTimeout);
        }
        checkHttp(http);
        metrics.validate();
        keys.check(ServerKeys.ADMIN_KEY_ENV, ServerKeys.DEFAULT_API_KEY_ENV);
        if (postgres != null && webhookSecrets.isEmpty()) {
            // Not generated per node: receivers would reject the deliveries of every node but one.
            throw new StartupException("on PostgreSQL every node must sign webhooks with the same secret: give each "
                    + "node HOURGLASS_WEBHOOK_SECRETS (or --webhook-secret); 'hourglass webhook-secret' prints a new one");
        }
        return this;
    }

    /** Refuses limits that could not serve a single request. */
    private static void checkHttp(HttpLimits http) {
        positive("maxHeaderBytes", http.maxHeaderBytes());
        positive("maxHeaders", http.maxHeaders());
        positive("maxConnections", http.maxConnections());
        positive("maxConcurrentRequests", http.maxConcurrentRequests());
        if (http.idleTimeout().isNegative() || http.idleTimeout().isZero()) {
            throw new StartupException("idleTimeout must be > 0, was " + http.idleTimeout());
        }
        if (http.readTimeout().isNegative() || http.readTimeout().isZero()) {
            throw new StartupException("readTimeout must be > 0, was " + http.readTimeout());
        }
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new StartupException(name + " must be >= 1, was " + value);
        }
    }
}
