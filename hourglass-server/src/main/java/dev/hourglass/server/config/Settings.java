package dev.hourglass.server.config;

import static dev.hourglass.server.config.DurationText.format;

import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.http.ApiHandler;
import dev.hourglass.http.HttpOptions;
import dev.hourglass.server.MetricsOptions;
import dev.hourglass.server.ServerConfig;
import dev.hourglass.server.ServerKeys;
import dev.hourglass.server.logging.LogFormat;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.tenancy.TargetSettings;
import dev.hourglass.webhook.WebhookHandler;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every setting of {@code hourglass server}, in the order the help lists them. The defaults are the library's own
 * constants, spelled as an operator would write them, so the help, the docs and the behaviour cannot disagree.
 */
public final class Settings {
    private static final String DURATION = "DURATION";
    /** See docs/benchmarks.md, "Access log": what a line per call costs. */
    private static final String ACCESS_LOG_DEFAULT = "false";

    public static final Setting CONFIG = Setting.of("config", "FILE", null, "A .properties file with any of the "
            + "settings below, by their option names without '--' (e.g. lease-ttl=10s); an unknown key is an error. "
            + "Flags and environment variables win over it.").withoutKey();
    public static final Setting PORT = Setting.of("port", "PORT", Integer.toString(ServerConfig.DEFAULT_PORT),
            "Port to listen on; 0 picks a free one.");
    public static final Setting BIND = Setting.of("bind", "ADDRESS", ServerConfig.DEFAULT_BIND,
            "Address to listen on; 0.0.0.0 for every interface.");
    public static final Setting DATA = Setting.of("data", "DIR", "./" + ServerConfig.DEFAULT_DATA_DIR,
            "Data directory of the sqlite store: the store is DIR/" + ServerConfig.STORE_FILE
                    + ", and the generated webhook secret DIR/webhook-secret.");
    public static final Setting STORE = Setting.of("store", "sqlite|postgres", "sqlite",
            "The store: the embedded SQLite file, or PostgreSQL.");
    public static final Setting JDBC_URL = Setting.of("jdbc-url", "URL", null,
            "PostgreSQL JDBC URL, e.g. jdbc:postgresql://db:5432/hourglass (--store postgres).");
    public static final Setting DB_USER = Setting.of("db-user", "USER", null,
            "PostgreSQL user (or the URL's user parameter).");
    public static final Setting DB_PASSWORD = Setting.secretOf("db-password", "PASSWORD",
            "PostgreSQL password (or the URL's password parameter).");
    public static final Setting DB_SCHEMA = Setting.of("db-schema", "SCHEMA", null,
            "PostgreSQL schema for Hourglass's tables, created if missing.")
            .defaultDescribed("the connection's current schema");
    public static final Setting DB_POOL_SIZE = Setting.of("db-pool-size", "N",
            Integer.toString(PostgresOptions.DEFAULT_POOL_SIZE), "PostgreSQL connections of this node ("
                    + PostgresOptions.MIN_POOL_SIZE + ".." + PostgresOptions.MAX_POOL_SIZE + ").");
    public static final Setting DB_CONNECT_TIMEOUT = Setting.of("db-connect-timeout", DURATION,
            format(PostgresOptions.DEFAULT_CONNECT_TIMEOUT),
            "PostgreSQL: the longest wait to open a connection (TCP and login) or to borrow one from the pool.");
    public static final Setting DB_SOCKET_TIMEOUT = Setting.of("db-socket-timeout", DURATION,
            format(PostgresOptions.DEFAULT_SOCKET_TIMEOUT),
            "PostgreSQL: how long one statement's answer may take before the connection counts as lost.");
    public static final Setting DB_CRASH_DETECTION = Setting.of("db-crash-detection", "true|false", "true",
            "PostgreSQL: hold a session lock that the server frees when this process dies, so that other nodes "
                    + "take over its jobs within a few seconds instead of a lease; false behind a "
                    + "transaction-mode pooler (PgBouncer), where session locks do not work.");
    public static final Setting STORE_TIMEOUT = Setting.of("store-timeout", DURATION,
            format(ApiHandler.DEFAULT_STORE_TIMEOUT),
            "The longest an API request waits for the store before it is answered 503 with Retry-After (at most 1d).");
    public static final Setting NODE_ID = Setting.of("node-id", "ID", null,
            "This node's name in the store's claims; unique per running node (1..100 characters).")
            .defaultDescribed("$HOSTNAME-pid");
    public static final Setting MAX_BODY_BYTES = Setting.of("max-body-bytes", "BYTES",
            Integer.toString(ApiHandler.DEFAULT_MAX_BODY_BYTES),
            "The largest request body the API reads; a larger one is answered 413.");
    public static final Setting HTTP_STOP_GRACE = Setting.of("http-stop-grace", DURATION,
            format(ServerConfig.DEFAULT_STOP_GRACE),
            "On SIGTERM: how long requests in progress may take to finish before the engine stops (to the "
                    + "millisecond, e.g. 250ms); then their connections are closed.");
    public static final Setting MAX_HEADER_BYTES = Setting.of("max-header-bytes", "BYTES",
            Integer.toString(HttpOptions.DEFAULT_MAX_HEADER_BYTES),
            "The most bytes of request header fields, in all; more is answered 431.");
    public static final Setting MAX_HEADERS = Setting.of("max-headers", "N",
            Integer.toString(HttpOptions.DEFAULT_MAX_HEADERS),
            "The most request header fields; more is answered 431.");
    public static final Setting MAX_CONNECTIONS = Setting.of("max-connections", "N",
            Integer.toString(HttpOptions.DEFAULT_MAX_CONNECTIONS),
            "The most open HTTP connections; further ones wait to be accepted until one closes.");
    public static final Setting MAX_CONCURRENT_REQUESTS = Setting.of("max-concurrent-requests", "N",
            Integer.toString(HttpOptions.DEFAULT_MAX_CONCURRENT_REQUESTS),
            "The most requests handled at once; more is answered 503 with Retry-After.");
    public static final Setting IDLE_TIMEOUT = Setting.of("idle-timeout", DURATION,
            format(HttpOptions.DEFAULT_IDLE_TIMEOUT),
            "How long an HTTP connection may stay open with no request before it is closed.");
    public static final Setting READ_TIMEOUT = Setting.of("read-timeout", DURATION,
            format(HttpOptions.DEFAULT_READ_TIMEOUT),
            "How long the server waits for the next bytes of a request it is reading before it closes the "
                    + "connection.");
    public static final Setting TLS_CERT = Setting.of("tls-cert", "FILE", null,
            "Serve HTTPS: the PEM certificate chain, server certificate first (with --tls-key).");
    public static final Setting TLS_KEY = Setting.of("tls-key", "FILE", null,
            "Serve HTTPS: the PEM private key (PKCS#8, unencrypted) of --tls-cert.");
    public static final Setting WEBHOOK_SECRET = Setting.of("webhook-secret", "whsec_...[,whsec_...]", null,
            "Secrets webhooks are signed with (Standard Webhooks), comma-separated, newest first; every one signs "
                    + "each delivery, so receivers may know any of them while you rotate. Prefer the environment "
                    + "variable: a flag shows in the process list.")
            .withEnv("HOURGLASS_WEBHOOK_SECRETS").asSecret()
            .defaultDescribed("sqlite: generated on the first start, kept in DIR/webhook-secret; postgres: required");
    public static final Setting WEBHOOK_ALLOWLIST = Setting.of("webhook-allowlist", "CIDR|HOST[,...]", null,
            "Loopback, private, link-local or metadata addresses webhooks may reach all the same: CIDR ranges, "
                    + "addresses and host names, comma-separated, e.g. 127.0.0.0/8,::1 for local experiments.");
    public static final Setting CONNECTION = Setting.of("connection", "NAME=URI", null,
            "A named connection jobs may deliver to (docs/queues.md): kafka://h:9092[,h2:9092], "
                    + "amqp://user:pass@h:5672/vhost, nats://h:4222, redis://h:6379/0. Repeat the flag for more; "
                    + "in the environment or the file, separate them with spaces. ${VAR} in a URI is read from the "
                    + "environment, so that a password need not be written here.")
            .withEnv("HOURGLASS_CONNECTIONS");
    public static final Setting WEBHOOK_CONNECT_TIMEOUT = Setting.of("webhook-connect-timeout", DURATION,
            format(WebhookHandler.DEFAULT_CONNECT_TIMEOUT), "How long a webhook delivery may take to connect.");
    public static final Setting TARGET_AUTO_PAUSE = Setting.of("target-auto-pause", "true|false",
            Boolean.toString(TargetSettings.DEFAULTS.autoPause()), "Pause a webhook target of tenant 'default' that "
                    + "alarms for --target-auto-pause-after: its due jobs wait, without spending attempts, until a "
                    + "probe succeeds. Other tenants choose their own (admin API).");
    public static final Setting TARGET_AUTO_PAUSE_AFTER = Setting.of("target-auto-pause-after", DURATION,
            format(TargetSettings.DEFAULTS.autoPauseAfter()), "How long a target alarms before it is paused, with "
                    + "--target-auto-pause (whole seconds, 1m..30d).");
    public static final Setting OPERATIONS_WEBHOOK = Setting.of("operations-webhook", "URL", null,
            "Where tenant 'default''s operations events are POSTed (target.alarm.raised, target.alarm.cleared, "
                    + "target.paused, target.resumed, job.failed); checked as a job's target URL is.");
    public static final Setting ADMIN_KEY = Setting.secretOf("admin-key", "KEY", "The admin API's key (at least "
            + ServerKeys.MIN_ADMIN_KEY_LENGTH + " characters, e.g. openssl rand -hex 32). Without it the admin API "
            + "is off.");
    public static final Setting DEFAULT_API_KEY = Setting.secretOf("default-api-key", "KEY",
            "The key of tenant 'default' (at least 22 characters). Without it one is generated on the first start "
                    + "and printed once.");
    public static final Setting LOG_FORMAT = Setting.of("log-format", "text|json", LogFormat.TEXT.id(),
            "How log lines are written: readable text, or one JSON object per line with the job's fields (job_id, "
                    + "tenant, attempt, trace_id) on the lines about a job.");
    public static final Setting ACCESS_LOG = Setting.of("access-log", "true|false", ACCESS_LOG_DEFAULT,
            "One log line per API call: method, route, status, duration, tenant (never a key, a query or a body).");

    public static final Setting METRICS = Setting.of("metrics", "true|false", "true",
            "Meters of every promise (lateness, pending, deliveries, ...) and GET /metrics for Prometheus.");
    public static final Setting METRICS_PORT = Setting.of("metrics-port", "PORT", null,
            "Serve /metrics on this port alone, without a key (listen on --bind; let only the monitoring system "
                    + "reach it).")
            .defaultDescribed("on the API port, where it takes the admin key when one is set");
    public static final Setting METRICS_TENANT_LABELS = Setting.of("metrics-tenant-labels", "N",
            Integer.toString(MetricsOptions.DEFAULT_TENANT_LABELS), "How many tenants get a tenant label of their "
                    + "own in the metrics (the busiest); the others are counted under 'other'.");
    public static final Setting METRICS_PENDING_EVERY = Setting.of("metrics-pending-every", DURATION,
            format(MetricsOptions.DEFAULT_PENDING_EVERY), "How often the pending-jobs gauges are counted from the "
                    + "store (one grouped read; spaced further when it takes long).");

    private static final EngineConfig ENGINE = EngineConfig.defaults("defaults");
    public static final Setting HORIZON = Setting.of("horizon", DURATION, format(ENGINE.horizon()),
            "Jobs due within this window are claimed and held in the in-memory timer.");
    public static final Setting LOAD_INTERVAL = Setting.of("load-interval", DURATION, format(ENGINE.loadInterval()),
            "How often the node claims newly due-soon jobs and renews its lease; shorter than the horizon.");
    public static final Setting LEASE_TTL = Setting.of("lease-ttl", DURATION, format(ENGINE.leaseTtl()),
            "How long this node's claims stay valid without renewal; then other nodes rescue them. At least two "
                    + "load intervals.");
    public static final Setting MAX_TIMER_ENTRIES = Setting.of("max-timer-entries", "N",
            Integer.toString(ENGINE.maxTimerEntries()), "The most jobs held in memory; beyond it jobs wait in the store.");
    public static final Setting MAX_IN_FLIGHT = Setting.of("max-in-flight", "N",
            Integer.toString(ENGINE.maxInFlight()), "The most attempts (webhook deliveries) running at once on this node.");
    public static final Setting COMMIT_BATCH = Setting.of("commit-batch", "N", Integer.toString(ENGINE.commitBatch()),
            "The most writes the group committer packs into one transaction.");
    public static final Setting DEFAULT_MAX_ATTEMPTS = Setting.of("default-max-attempts", "N",
            Integer.toString(ENGINE.defaultMaxAttempts()), "Attempts before a job is FAILED, when the job does not say.");
    public static final Setting DEFAULT_BACKOFF_INITIAL = Setting.of("default-backoff-initial", DURATION,
            format(Backoff.DEFAULT.initial()), "The wait before the first retry, doubling after each failure, when "
                    + "the job does not say.");
    public static final Setting DEFAULT_BACKOFF_MAX = Setting.of("default-backoff-max", DURATION,
            format(Backoff.DEFAULT.max()), "The longest wait between retries, when the job does not say.");
    public static final Setting DEFAULT_ATTEMPT_TIMEOUT = Setting.of("default-attempt-timeout", DURATION,
            format(ENGINE.defaultTimeout()), "How long one attempt (a webhook request) may take, when the job does "
                    + "not say.");
    public static final Setting MAX_DELAY = Setting.of("max-delay", DURATION, format(ENGINE.maxDelay()),
            "The furthest in the future a job may be due.");
    public static final Setting MAX_PAYLOAD_BYTES = Setting.of("max-payload-bytes", "BYTES",
            Integer.toString(ENGINE.maxPayloadBytes()), "The largest job payload accepted.");
    public static final Setting RETENTION = Setting.of("retention", DURATION, format(ENGINE.retention()),
            "How long finished jobs (succeeded, failed, cancelled) are kept before they are deleted.");
    public static final Setting SHUTDOWN_GRACE = Setting.of("shutdown-grace", DURATION,
            format(ENGINE.shutdownGrace()), "On SIGTERM: how long running attempts may take to finish before the "
                    + "node hands their jobs back.");

    /** Every setting, in the order the help lists them. */
    public static final List<Setting> ALL = List.of(CONFIG, PORT, BIND, DATA, STORE, JDBC_URL, DB_USER, DB_PASSWORD,
            DB_SCHEMA, DB_POOL_SIZE, DB_CONNECT_TIMEOUT, DB_SOCKET_TIMEOUT, DB_CRASH_DETECTION, STORE_TIMEOUT, NODE_ID,
            MAX_BODY_BYTES, HTTP_STOP_GRACE, MAX_HEADER_BYTES, MAX_HEADERS, MAX_CONNECTIONS, MAX_CONCURRENT_REQUESTS, IDLE_TIMEOUT,
            READ_TIMEOUT, TLS_CERT, TLS_KEY, WEBHOOK_SECRET, WEBHOOK_ALLOWLIST, WEBHOOK_CONNECT_TIMEOUT, CONNECTION,
            TARGET_AUTO_PAUSE, TARGET_AUTO_PAUSE_AFTER, OPERATIONS_WEBHOOK, ADMIN_KEY,
            DEFAULT_API_KEY, METRICS, METRICS_PORT, METRICS_TENANT_LABELS, METRICS_PENDING_EVERY, LOG_FORMAT,
            ACCESS_LOG, HORIZON, LOAD_INTERVAL, LEASE_TTL, MAX_TIMER_ENTRIES, MAX_IN_FLIGHT, COMMIT_BATCH,
            DEFAULT_MAX_ATTEMPTS, DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_ATTEMPT_TIMEOUT, MAX_DELAY,
            MAX_PAYLOAD_BYTES, RETENTION, SHUTDOWN_GRACE);

    /** The settings a configuration file may hold, by key. */
    public static final Map<String, Setting> BY_KEY = ALL.stream().filter(s -> s.key() != null)
            .collect(Collectors.toUnmodifiableMap(Setting::key, Function.identity()));

    private Settings() {}
}
