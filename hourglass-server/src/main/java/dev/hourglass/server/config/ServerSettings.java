package dev.hourglass.server.config;

import static dev.hourglass.server.config.Settings.*;

import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.http.HttpLimits;
import dev.hourglass.http.HttpOptions;
import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.MetricsOptions;
import dev.hourglass.server.ServerConfig;
import dev.hourglass.server.ServerKeys;
import dev.hourglass.server.StartupException;
import dev.hourglass.server.logging.LogFormat;
import dev.hourglass.server.logging.LogOptions;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.tenancy.TargetSettings;
import dev.hourglass.webhook.WebhookUrls;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.webhook.address.WebhookAllowlist;
import dev.hourglass.webhook.signing.SigningSecret;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Turns {@link ResolvedSettings} into a {@link ServerConfig}, engine settings included. Each value is checked where
 * it is read; the rules that span several values (the load interval shorter than the horizon, the pool size range)
 * stay with the library classes that own them, and their messages are given the name of the setting they are about.
 */
public final class ServerSettings {
    private static final Duration MAX_STORE_TIMEOUT = Duration.ofDays(1);

    /**
     * The library's names for the values (the start of its messages), and the setting each one is. Longest first, so
     * that "backoff initial" wins over a shorter name.
     */
    private static final List<Map.Entry<String, Setting>> LIBRARY_NAMES = Map.ofEntries(
                    Map.entry("nodeId", NODE_ID), Map.entry("horizon", HORIZON),
                    Map.entry("loadInterval", LOAD_INTERVAL), Map.entry("leaseTtl", LEASE_TTL),
                    Map.entry("maxTimerEntries", MAX_TIMER_ENTRIES), Map.entry("maxInFlight", MAX_IN_FLIGHT),
                    Map.entry("commitBatch", COMMIT_BATCH), Map.entry("defaultMaxAttempts", DEFAULT_MAX_ATTEMPTS),
                    Map.entry("backoff initial", DEFAULT_BACKOFF_INITIAL), Map.entry("backoff max", DEFAULT_BACKOFF_MAX),
                    Map.entry("defaultTimeout", DEFAULT_ATTEMPT_TIMEOUT), Map.entry("maxDelay", MAX_DELAY),
                    Map.entry("maxPayloadBytes", MAX_PAYLOAD_BYTES), Map.entry("retention", RETENTION),
                    Map.entry("shutdownGrace", SHUTDOWN_GRACE), Map.entry("jdbcUrl", JDBC_URL),
                    Map.entry("poolSize", DB_POOL_SIZE), Map.entry("connectTimeout", DB_CONNECT_TIMEOUT),
                    Map.entry("socketTimeout", DB_SOCKET_TIMEOUT), Map.entry("schema", DB_SCHEMA),
                    Map.entry("crashDetection", DB_CRASH_DETECTION))
            .entrySet().stream()
            .sorted(Comparator.comparingInt((Map.Entry<String, Setting> e) -> e.getKey().length()).reversed())
            .toList();

    private ServerSettings() {}

    /**
     * The server's configuration.
     *
     * @throws StartupException naming the first setting that breaks its rule, and the rule
     */
    public static ServerConfig toServerConfig(ResolvedSettings s) {
        ServerConfig config = ServerConfig.defaults()
                .withPort(s.integer(PORT, 0, 65_535))
                .withBind(s.text(BIND))
                .withDataDir(s.path(DATA))
                .withMaxBodyBytes(s.integer(MAX_BODY_BYTES, 1, Integer.MAX_VALUE))
                .withStopGrace(s.duration(HTTP_STOP_GRACE, true, null))
                .withStoreTimeout(s.duration(STORE_TIMEOUT, false, MAX_STORE_TIMEOUT))
                .withWebhookConnectTimeout(s.duration(WEBHOOK_CONNECT_TIMEOUT, false, null))
                .withHttp(http(s));
        config = withStore(config, s);
        config = config.withWebhookSecrets(webhookSecrets(s));
        try {
            config = config.withWebhookAllowlist(WebhookAllowlist.parse(s.text(WEBHOOK_ALLOWLIST)));
        } catch (IllegalArgumentException e) {
            throw s.problem(WEBHOOK_ALLOWLIST, e.getMessage());
        }
        config = config.withConnections(connections(s, System::getenv));
        ServerKeys keys = new ServerKeys(s.text(ADMIN_KEY), s.text(DEFAULT_API_KEY))
                .check(s.label(ADMIN_KEY), s.label(DEFAULT_API_KEY));
        return config.withKeys(keys).withEngine(engine(s)).withMetrics(metrics(s)).withTargets(targets(s));
    }

    /**
     * The queue connections: {@code NAME=URI} items separated by white space (a repeated flag is joined so), each
     * URI's {@code ${VAR}} taken from {@code environment}.
     */
    static List<QueueConnection> connections(ResolvedSettings s, java.util.function.UnaryOperator<String> environment) {
        String text = s.text(CONNECTION);
        if (text == null || text.isBlank()) {
            return List.of();
        }
        List<QueueConnection> connections = new java.util.ArrayList<>();
        try {
            for (String item : text.strip().split("\\s+")) {
                connections.add(QueueConnection.parse(item, environment));
            }
            QueueConnection.byName(connections);
        } catch (IllegalArgumentException e) {
            throw s.problem(CONNECTION, e.getMessage());
        }
        return connections;
    }

    /**
     * The server's target settings: auto-pause and the operations webhook as configured, the alarm thresholds at
     * their defaults. The webhook's host is checked against the blocked addresses when the server starts, with the
     * guard the webhook client resolves through.
     */
    static TargetSettings targets(ResolvedSettings s) {
        Duration after = s.duration(TARGET_AUTO_PAUSE_AFTER, false, null);
        long seconds = after.toSeconds();
        if (after.toMillis() % 1000 != 0 || seconds < TargetSettings.MIN_AUTO_PAUSE_AFTER_SECONDS
                || seconds > TargetSettings.MAX_AUTO_PAUSE_AFTER_SECONDS) {
            throw s.invalid(TARGET_AUTO_PAUSE_AFTER, "a whole number of seconds from 1m to 30d");
        }
        URI webhook = null;
        String url = s.text(OPERATIONS_WEBHOOK);
        if (url != null) {
            WebhookUrls.Checked checked = WebhookUrls.check(url);
            if (!checked.ok()) {
                throw s.invalid(OPERATIONS_WEBHOOK, "a URL Hourglass can POST to: it " + checked.refusal());
            }
            webhook = checked.url();
        }
        return TargetSettings.DEFAULTS.withAutoPause(s.bool(TARGET_AUTO_PAUSE), seconds)
                .withOperationsWebhook(webhook);
    }

    /** Whether and where /metrics is served, and how its tenant labels are bounded. */
    static MetricsOptions metrics(ResolvedSettings s) {
        return new MetricsOptions(s.bool(METRICS),
                s.text(METRICS_PORT) == null ? MetricsOptions.ON_API_PORT : s.integer(METRICS_PORT, 0, 65_535),
                s.integer(METRICS_TENANT_LABELS, 0, 100_000), s.duration(METRICS_PENDING_EVERY, false, null));
    }

    /** How the process logs: {@code --log-format} and {@code --access-log}. */
    public static LogOptions logging(ResolvedSettings s) {
        LogFormat format = switch (s.text(LOG_FORMAT)) {
            case "text" -> LogFormat.TEXT;
            case "json" -> LogFormat.JSON;
            default -> throw s.invalid(LOG_FORMAT, "text or json");
        };
        return new LogOptions(format, s.bool(ACCESS_LOG));
    }

    /** The HTTP server's limits, and TLS when both a certificate and a key are given (one alone is refused). */
    static HttpLimits http(ResolvedSettings s) {
        HttpLimits limits = HttpLimits.DEFAULTS
                .withHeaders(s.integer(MAX_HEADER_BYTES, 1024, Integer.MAX_VALUE),
                        s.integer(MAX_HEADERS, 1, 100_000))
                .withMaxConnections(s.integer(MAX_CONNECTIONS, 1, Integer.MAX_VALUE))
                .withMaxConcurrentRequests(s.integer(MAX_CONCURRENT_REQUESTS, 1, Integer.MAX_VALUE))
                .withTimeouts(s.duration(IDLE_TIMEOUT, false, null), s.duration(READ_TIMEOUT, false, null));
        String cert = s.text(TLS_CERT);
        String key = s.text(TLS_KEY);
        if ((cert == null) != (key == null)) {
            throw new StartupException("TLS needs both " + s.label(TLS_CERT) + " and " + s.label(TLS_KEY)
                    + "; only " + (cert == null ? s.label(TLS_KEY) : s.label(TLS_CERT)) + " was given");
        }
        if (cert == null) {
            return limits;
        }
        Path certFile = s.path(TLS_CERT);
        Path keyFile = s.path(TLS_KEY);
        for (Path file : List.of(certFile, keyFile)) {
            if (!Files.isReadable(file)) {
                throw s.problem(file == certFile ? TLS_CERT : TLS_KEY, "cannot read " + file);
            }
        }
        return limits.withTls(new HttpOptions.TlsFiles(certFile, keyFile));
    }

    /** The engine settings, built and validated by {@link EngineConfig.Builder#build}. */
    static EngineConfig engine(ResolvedSettings s) {
        String nodeId = s.text(NODE_ID) != null ? s.text(NODE_ID) : HourglassServer.defaultNodeId();
        try {
            return EngineConfig.builder(nodeId)
                    .horizon(s.duration(HORIZON, false, null))
                    .loadInterval(s.duration(LOAD_INTERVAL, false, null))
                    .leaseTtl(s.duration(LEASE_TTL, false, null))
                    .maxTimerEntries(s.integer(MAX_TIMER_ENTRIES, 1, Integer.MAX_VALUE))
                    .maxInFlight(s.integer(MAX_IN_FLIGHT, 1, Integer.MAX_VALUE))
                    .commitBatch(s.integer(COMMIT_BATCH, 1, Integer.MAX_VALUE))
                    .defaultMaxAttempts(s.integer(DEFAULT_MAX_ATTEMPTS, 1, Integer.MAX_VALUE))
                    .defaultBackoff(new Backoff(s.duration(DEFAULT_BACKOFF_INITIAL, false, null),
                            s.duration(DEFAULT_BACKOFF_MAX, false, null)))
                    .defaultTimeout(s.duration(DEFAULT_ATTEMPT_TIMEOUT, false, null))
                    .maxDelay(s.duration(MAX_DELAY, false, null))
                    .maxPayloadBytes(s.integer(MAX_PAYLOAD_BYTES, 0, Integer.MAX_VALUE))
                    .retention(s.duration(RETENTION, false, null))
                    .shutdownGrace(s.duration(SHUTDOWN_GRACE, true, null))
                    .build();
        } catch (IllegalArgumentException e) {
            throw libraryProblem(s, e, "engine settings");
        }
    }

    /** --store and the PostgreSQL settings; those are refused with the SQLite store rather than ignored. */
    private static ServerConfig withStore(ServerConfig config, ResolvedSettings s) {
        String store = s.text(STORE);
        switch (store) {
            case "sqlite" -> {
                if (s.text(JDBC_URL) != null) {
                    throw new StartupException(s.label(JDBC_URL) + " is for --store postgres; the sqlite store "
                            + "lives in --data");
                }
                if (s.text(DB_SCHEMA) != null) {
                    throw new StartupException(s.label(DB_SCHEMA) + " is for --store postgres");
                }
                return config;
            }
            case "postgres" -> {
                if (s.text(JDBC_URL) == null) {
                    throw new StartupException("the postgres store (" + s.label(STORE) + ") needs a JDBC URL: "
                            + JDBC_URL.flag() + ", " + JDBC_URL.env() + " or " + JDBC_URL.key() + " in the config file");
                }
                try {
                    return config.withPostgres(PostgresOptions.of(s.text(JDBC_URL), s.text(DB_USER),
                                    s.text(DB_PASSWORD))
                            .withPoolSize(s.integer(DB_POOL_SIZE, PostgresOptions.MIN_POOL_SIZE,
                                    PostgresOptions.MAX_POOL_SIZE))
                            .withSchema(s.text(DB_SCHEMA))
                            .withConnectTimeout(s.duration(DB_CONNECT_TIMEOUT, false, null))
                            .withSocketTimeout(s.duration(DB_SOCKET_TIMEOUT, false, null))
                            .withCrashDetection(s.bool(DB_CRASH_DETECTION)));
                } catch (IllegalArgumentException e) {
                    throw libraryProblem(s, e, "PostgreSQL settings");
                }
            }
            default -> throw s.invalid(STORE, "sqlite or postgres");
        }
    }

    private static List<SigningSecret> webhookSecrets(ResolvedSettings s) {
        String text = s.text(WEBHOOK_SECRET);
        List<SigningSecret> secrets = new ArrayList<>();
        if (text != null) {
            String[] entries = text.split(",");
            for (int i = 0; i < entries.length; i++) {
                try {
                    secrets.add(SigningSecret.parse(entries[i]));
                } catch (IllegalArgumentException e) {
                    // The entry itself is never echoed: it may be a real secret with a typo.
                    throw new StartupException(s.label(WEBHOOK_SECRET) + ", secret " + (i + 1) + " of "
                            + entries.length + ": " + e.getMessage());
                }
            }
        }
        return secrets;
    }

    /** A library's complaint, given the name of the setting it is about (or {@code context} if none matches). */
    private static StartupException libraryProblem(ResolvedSettings s, IllegalArgumentException e, String context) {
        String message = String.valueOf(e.getMessage());
        for (Map.Entry<String, Setting> name : LIBRARY_NAMES) {
            if (message.startsWith(name.getKey() + " ")) {
                return s.problem(name.getValue(), message);
            }
        }
        return new StartupException(context + ": " + message);
    }
}
