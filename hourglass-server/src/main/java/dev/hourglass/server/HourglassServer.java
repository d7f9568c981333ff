package dev.hourglass.server;

import dev.hourglass.core.api.TenantShares;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.supervision.EngineFailure;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import dev.hourglass.http.ApiHandler;
import dev.hourglass.http.ApiServer;
import dev.hourglass.http.AuthFailureThrottle;
import dev.hourglass.http.HttpOptions;
import dev.hourglass.http.MetricsExposition;
import dev.hourglass.http.MetricsServer;
import dev.hourglass.queues.QueueDeliveries;
import dev.hourglass.schedules.JdbcScheduleStore;
import dev.hourglass.schedules.OverlapGuard;
import dev.hourglass.schedules.RecurringSchedules;
import dev.hourglass.schedules.ScheduleStore;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.store.sqlite.SqliteJobStore;
import dev.hourglass.tenancy.JdbcTenantStore;
import dev.hourglass.tenancy.QuotaGate;
import dev.hourglass.tenancy.TenantDirectory;
import dev.hourglass.tenancy.TenantStore;
import dev.hourglass.webhook.WebhookHandler;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import dev.hourglass.webhook.signing.WebhookSigner;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.io.CloseMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hourglass as a service: the engine on the embedded SQLite store, the HTTP API, and webhook delivery, started and
 * stopped as one. Used by the command line ({@code hourglass server}) and by the tests.
 *
 * <pre>{@code
 * try (HourglassServer server = HourglassServer.start(ServerConfig.defaults().withPort(0).withDataDir(dir))) {
 *     URI api = server.baseUri(); // http://127.0.0.1:<the port picked>
 * }
 * }</pre>
 *
 * <p>The HTTP server is Helidon's WebServer ({@link ApiServer}), one virtual thread per request: each request may
 * block (a schedule waits for its group commit) without holding a platform thread. Its limits, TLS and shutdown
 * deadline come from {@link ServerConfig#http()} and {@link ServerConfig#stopGrace()}.
 *
 * <p>Start order: check the data directory, bind the port, open the store, start the engine, then accept requests;
 * whatever fails first is reported as a one-line {@link StartupException} and everything opened so far is closed.
 * {@link #close()} stops accepting requests (letting those in progress finish), then closes the engine, which hands
 * its claims back to the store.
 */
public final class HourglassServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HourglassServer.class);
    private final ServerConfig config;
    private final ApiServer http;
    private final CloseableHttpClient webhookClient;
    private final Hourglass hourglass;
    private final Path storeFile;
    private final WebhookSigningSetup webhookSigning;
    private final TenantDirectory tenants;
    private final QuotaGate quotas;
    private final ServerTelemetry telemetry;
    private final String generatedDefaultKey;
    /** The meters and their listener of its own; null when off, and the listener null on the API port. */
    private final ServerMetrics metrics;
    private final MetricsServer metricsServer;
    /** Creates the runs of the tenants' recurring schedules, about once a second. */
    private final RecurringSchedules recurring;
    /** The publishers of the queue connections ({@code --connection}), closed after the engine. */
    private final QueueDeliveries queues;
    private final AtomicBoolean closed = new AtomicBoolean();

    private HourglassServer(ServerConfig config, ApiServer http, CloseableHttpClient webhookClient,
            Hourglass hourglass, Path storeFile, WebhookSigningSetup webhookSigning, TenantDirectory tenants,
            QuotaGate quotas, ServerTelemetry telemetry, String generatedDefaultKey, ServerMetrics metrics,
            MetricsServer metricsServer, RecurringSchedules recurring, QueueDeliveries queues) {
        this.recurring = recurring;
        this.queues = queues;
        this.metrics = metrics;
        this.metricsServer = metricsServer;
        this.config = config;
        this.http = http;
        this.webhookClient = webhookClient;
        this.hourglass = hourglass;
        this.storeFile = storeFile;
        this.webhookSigning = webhookSigning;
        this.tenants = tenants;
        this.quotas = quotas;
        this.telemetry = telemetry;
        this.generatedDefaultKey = generatedDefaultKey;
    }

    /**
     * Starts a server on the system's clocks and returns once it accepts requests.
     *
     * @throws StartupException when it cannot start as configured; nothing is left running
     */
    public static HourglassServer start(ServerConfig config) {
        return start(config, SystemTime.wallClock(), SystemTime.ticker());
    }

    /**
     * Starts a server whose every component (engine, tenants, quotas, webhook signatures) reads the time from the
     * given clocks: the wall clock decides due times and timestamps, the ticker measures waits and rates. On
     * PostgreSQL the engine still corrects the wall clock by its measured offset from the database's clock.
     *
     * @throws StartupException when it cannot start as configured; nothing is left running
     */
    public static HourglassServer start(ServerConfig config, InstantSource wallClock, Ticker ticker) {
        config.validate();
        return start(config, wallClock, ticker, ServerTelemetry.fromEnvironment());
    }

    /**
     * {@link #start(ServerConfig, InstantSource, Ticker)}, tracing with {@code openTelemetry} instead of the SDK the
     * {@code OTEL_*} variables configure: each webhook attempt is a span of the trace that scheduled its job. The
     * caller keeps {@code openTelemetry} and shuts it down after {@link #close()}.
     *
     * @throws StartupException when it cannot start as configured; nothing is left running
     */
    public static HourglassServer start(ServerConfig config, InstantSource wallClock, Ticker ticker,
            OpenTelemetry openTelemetry) {
        config.validate();
        return start(config, wallClock, ticker, ServerTelemetry.of(openTelemetry));
    }

    private static HourglassServer start(ServerConfig config, InstantSource wallClock, Ticker ticker,
            ServerTelemetry telemetry) {
        Path storeFile;
        ApiServer http;
        try {
            storeFile = config.postgres() != null ? null
                    : prepareDataDir(config.dataDir()).resolve(ServerConfig.STORE_FILE);
            http = bind(config, ticker);
        } catch (RuntimeException e) {
            telemetry.close();
            throw e;
        }
        JobStore store = null;
        CloseableHttpClient client = null;
        TenantDirectory tenants = null;
        QuotaGate quotas = null;
        ServerMetrics metrics = config.metrics().enabled() ? new ServerMetrics(config.metrics()) : null;
        MetricsServer metricsServer = null;
        RecurringSchedules recurring = null;
        QueueDeliveries queues = null;
        try {
            if (metrics != null && config.metrics().ownPort()) {
                metricsServer = bindMetrics(config, metrics);
            }
            store = config.postgres() != null ? openPostgres(config.postgres()) : openStore(storeFile);
            EngineConfig engine = config.engine() != null ? config.engine() : EngineConfig.defaults(defaultNodeId());
            // After the store is open: on SQLite its lock makes this process the data directory's only user.
            WebhookSigningSetup signing = WebhookSigningSetup.resolve(config,
                    storeFile != null ? storeFile.getParent() : null);
            TenantStore tenantStore = tenantStoreOf(store);
            // One guard for both checks: the API's at schedule time and the client's resolver at delivery time.
            GuardedDnsResolver addressGuard = GuardedDnsResolver.system(config.webhookAllowlist());
            checkOperationsWebhook(config, addressGuard);
            // The server's target settings watch the default tenant and tenants without a row: the engine's target
            // monitor reads them through tenants.targetPolicy(name) and tenants.operationsWebhook(name).
            tenants = new TenantDirectory(tenantStore, wallClock,
                    signing.secrets().secretsFor(TenantDirectory.DEFAULT_TENANT), config.targets());
            TenantDirectory.Bootstrap bootstrap = startTenants(tenants, config.keys());
            quotas = startQuotas(tenantStore, ticker);
            EngineMetrics engineMetrics = metrics != null ? metrics.engine() : EngineMetrics.NOOP;
            if (metrics != null) {
                quotas.onRefusal((tenant, refusal) -> metrics.engine().quotaRejected(tenant, refusal.quota()));
                if (store instanceof PostgresJobStore pg) {
                    pg.bindPoolMetrics(metrics.registry()); // HikariCP's own meters: hikaricp_connections_*
                }
            }
            client = WebhookHandler.newClient(config.webhookConnectTimeout(), addressGuard);
            WebhookHandler webhooks = new WebhookHandler(client, config.webhookConnectTimeout(),
                    engine.defaultTimeout(), new WebhookSigner(tenants, wallClock), telemetry.openTelemetry());
            // Publishers connect on first use: a broker that is down delays its jobs, never the start.
            queues = QueueDeliveries.of(config.connections(), engine.defaultTimeout());
            OperationsEvents operations = new OperationsEvents(tenants::operationsWebhook, wallClock);
            TenantDirectory directory = tenants;
            TargetWatch targets = new TargetWatch(operations,
                    tenant -> config.watching().tuning().apply(directory.targetPolicy(tenant)));
            Hourglass hourglass = startEngine(store, engine, tenants, webhooks, queues, wallClock, ticker,
                    engineMetrics, targets, config.watching().monitor());
            operations.sendWith(hourglass);
            if (metrics != null) {
                metrics.bindTargets(targets, hourglass.targets().orElseThrow());
            }
            ApiHandler api = new ApiHandler(hourglass, config.maxBodyBytes(), config.storeTimeout(), addressGuard,
                    tenants, quotas, config.keys().adminKey(),
                    new AuthFailureThrottle(ticker, AuthFailureThrottle.DEFAULT_FAILURES_PER_MINUTE),
                    telemetry.openTelemetry());
            if (metrics != null && metricsServer == null) {
                api.serveMetrics(metrics);
            }
            api.deliverToQueues(queues.connections());
            // Kept in the job store's database, as the tenants are, so that every node sees the same schedules.
            recurring = new RecurringSchedules(hourglass, JdbcScheduleStore.on((SqlDatabase) store)).start();
            api.serveSchedules(recurring);
            http.serve(api);
            log.debug("HTTP API on {} (store {})", baseUri(config, http), storeFile);
            return new HourglassServer(config, http, client, hourglass, storeFile, signing, tenants, quotas,
                    telemetry, bootstrap.generatedDefaultKey(), metrics, metricsServer, recurring, queues);
        } catch (RuntimeException e) {
            http.close();
            if (recurring != null) {
                recurring.close();
            }
            if (metricsServer != null) {
                metricsServer.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            if (quotas != null) {
                quotas.close();
            }
            if (tenants != null) {
                tenants.close();
            }
            if (client != null) {
                client.close(CloseMode.IMMEDIATE);
            }
            if (queues != null) {
                queues.close();
            }
            if (store != null) {
                store.close(); // a failed build() leaves the store to its caller
            }
            telemetry.close();
            throw e;
        }
    }

    /**
     * Refuses an operations webhook whose host is, or resolves to, a blocked address that is not allowlisted: the
     * same rule as a job's target URL, so that the operator's setting cannot reach what a job may not.
     */
    private static void checkOperationsWebhook(ServerConfig config, GuardedDnsResolver addressGuard) {
        URI webhook = config.targets().operationsWebhook();
        if (webhook == null) {
            return;
        }
        addressGuard.check(webhook.getHost()).ifPresent(refused -> {
            throw new StartupException("operations-webhook must not reach a " + refused.rule() + " address: "
                    + refused.describe() + "; allowlist it with --webhook-allowlist if it is meant to");
        });
    }

    /** Creates the data directory if needed; refuses a file, or a directory this process cannot write. */
    private static Path prepareDataDir(Path configured) {
        Path dir = configured.toAbsolutePath().normalize();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new StartupException("data directory " + dir + " is not a directory (it is a file)");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StartupException("cannot create data directory " + dir + ": " + reason(e));
        }
        if (!Files.isWritable(dir)) {
            throw new StartupException("data directory " + dir + " is not writable");
        }
        return dir;
    }

    /** The HTTP server's options: where it listens, its limits, TLS, and the deadline of its shutdown. */
    static HttpOptions httpOptions(ServerConfig config) {
        return new HttpOptions(config.bind(), config.port(), config.maxBodyBytes(), config.stopGrace(), config.http());
    }

    private static ApiServer bind(ServerConfig config, Ticker ticker) {
        InetSocketAddress address = new InetSocketAddress(config.bind(), config.port());
        String where = hostForUri(config.bind()) + ":" + config.port();
        if (address.isUnresolved()) {
            throw new StartupException("cannot listen on " + where + ": unknown bind address " + config.bind());
        }
        try {
            return ApiServer.bind(httpOptions(config), ticker);
        } catch (IllegalStateException e) {
            throw new StartupException(firstLine(e.getMessage()), e);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
                    throw new StartupException("cannot listen on " + where + ": " + (message.contains("in use")
                            ? "port " + config.port() + " is already in use" : firstLine(t.getMessage())));
                }
            }
            throw new StartupException("cannot listen on " + where + ": " + firstLine(String.valueOf(e.getMessage())),
                    e);
        }
    }

    private static MetricsServer bindMetrics(ServerConfig config, ServerMetrics metrics) {
        try {
            return MetricsServer.start(config.bind(), config.metrics().port(), metrics);
        } catch (RuntimeException e) {
            throw new StartupException("cannot serve /metrics on " + hostForUri(config.bind()) + ":"
                    + config.metrics().port() + ": " + firstLine(String.valueOf(e.getMessage())), e);
        }
    }

    private static TenantDirectory.Bootstrap startTenants(TenantDirectory tenants, ServerKeys keys) {
        try {
            return tenants.start(keys.defaultApiKey(), TenantDirectory.DEFAULT_REFRESH);
        } catch (StoreException e) {
            throw new StartupException("cannot read the tenants: " + firstLine(e.getMessage()), e);
        } catch (IllegalArgumentException e) {
            throw new StartupException("HOURGLASS_DEFAULT_API_KEY: " + e.getMessage(), e);
        }
    }

    /** The tenants and API keys, kept in the job store's own database so that every node sees the same ones. */
    private static TenantStore tenantStoreOf(JobStore store) {
        if (store instanceof SqlDatabase database) {
            return JdbcTenantStore.on(database);
        }
        throw new StartupException(store + " cannot keep tenants: the server needs a SQL store");
    }

    private static QuotaGate startQuotas(TenantStore tenantStore, Ticker ticker) {
        try {
            return new QuotaGate(tenantStore, ticker, QuotaGate.DEFAULT_RECOUNT).start();
        } catch (StoreException e) {
            throw new StartupException("cannot count pending jobs: " + firstLine(e.getMessage()), e);
        }
    }

    private static JobStore openPostgres(PostgresOptions options) {
        try {
            return PostgresJobStore.open(options);
        } catch (StoreException e) {
            throw new StartupException("cannot open the PostgreSQL store: " + firstLine(e.getMessage()), e);
        }
    }

    private static JobStore openStore(Path file) {
        try {
            return SqliteJobStore.open(file);
        } catch (StoreException e) {
            throw new StartupException("cannot open the store: " + firstLine(e.getMessage()), e);
        }
    }

    /**
     * The engine, with a handler per queue type and the webhook handler under two names: {@code webhook} for the tenants' jobs and
     * {@value OperationsEvents#HANDLER} for the operations events ({@link OperationsEvents}); and the target monitor
     * ({@link TargetWatch}).
     */
    private static Hourglass startEngine(JobStore store, EngineConfig engine, TenantShares shares,
            WebhookHandler webhooks, QueueDeliveries queues, InstantSource wallClock, Ticker ticker,
            EngineMetrics metrics, TargetWatch targets, TargetMonitor.Settings monitor) {
        try {
            ScheduleStore schedules = JdbcScheduleStore.on((SqlDatabase) store);
            Hourglass.Builder builder = Hourglass.builder();
            // A queue type's handler delivers its jobs (docs/queues.md); runs of schedules to queues keep their
            // overlap rule as webhooks do.
            queues.handlers().forEach((type, handler) ->
                    builder.handler(type, new OverlapGuard(handler, schedules, store)));
            return builder
                    .store(store)
                    .clock(wallClock, ticker)
                    .syncClockToStore(true) // nodes sharing PostgreSQL time jobs by its clock, whatever clock is given
                    .config(engine)
                    .tenantShares(shares)
                    // Runs of recurring schedules are webhooks too; their overlap rule applies as each starts.
                    .handler(WebhookHandler.NAME, new OverlapGuard(webhooks, schedules, store))
                    .handler(OperationsEvents.HANDLER, webhooks)
                    .metrics(metrics)
                    .deliveryListener(targets.operations())
                    .watchTargets(monitor, targets.policies(), targets)
                    .onFatalError(HourglassServer::toProcess)
                    .build();
        } catch (StoreException e) {
            throw new StartupException("cannot start on the store: " + firstLine(e.getMessage()), e);
        } catch (IllegalArgumentException e) {
            throw new StartupException("invalid engine settings: " + firstLine(e.getMessage()), e);
        }
    }

    /**
     * An engine failure is the process's own: it goes to the process's default uncaught-exception handler, which the
     * command line sets to end the process ({@code ProcessSupervisor}), so that its supervisor restarts it. A server
     * started inside another process (tests, an application) has no such handler unless that process sets one: it
     * stays up and reports the failure on {@code /healthz} and {@code /readyz}.
     */
    private static void toProcess(EngineFailure failure) {
        Thread.UncaughtExceptionHandler process = Thread.getDefaultUncaughtExceptionHandler();
        if (process != null) {
            process.uncaughtException(Thread.currentThread(), failure.error());
        }
    }

    /** The node id when none is configured: {@code $HOSTNAME-pid}, at most 100 characters. */
    public static String defaultNodeId() {
        String host = System.getenv().getOrDefault("HOSTNAME", "localhost");
        String id = host + "-" + ProcessHandle.current().pid();
        return id.length() <= 100 ? id : id.substring(id.length() - 100);
    }

    /** The named queue connections jobs may deliver to. */
    public java.util.List<dev.hourglass.queues.QueueConnection> queueConnections() {
        return config.connections();
    }

    /** The port listened on (the one picked, when configured with 0). */
    public int port() {
        return http.port();
    }

    /**
     * Where {@code GET /metrics} is served: on the API ({@link #baseUri()}) or on the metrics port; empty when the
     * metrics are off.
     */
    public java.util.Optional<URI> metricsUri() {
        if (metrics == null) {
            return java.util.Optional.empty();
        }
        URI base = metricsServer == null ? baseUri()
                : URI.create("http://" + hostForUri(config.bind()) + ":" + metricsServer.port());
        return java.util.Optional.of(base.resolve(MetricsExposition.PATH));
    }

    /** The meters, for tests and embedding code; empty when the metrics are off. */
    public java.util.Optional<io.micrometer.core.instrument.MeterRegistry> meterRegistry() {
        return java.util.Optional.ofNullable(metrics).map(ServerMetrics::registry);
    }

    /** Samples the pending-jobs gauges now (they are otherwise sampled in the background): for tests. */
    public void samplePendingMetrics() {
        if (metrics != null) {
            metrics.engine().samplePending();
        }
    }

    /** Where the API is, e.g. {@code http://127.0.0.1:8080}. */
    public URI baseUri() {
        return baseUri(config, http);
    }

    private static URI baseUri(ServerConfig config, ApiServer http) {
        return URI.create((http.tls() ? "https://" : "http://") + hostForUri(config.bind()) + ":" + http.port());
    }

    private static String hostForUri(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The absolute path of the SQLite store file, or null when the server runs on PostgreSQL. */
    public Path storeFile() {
        return storeFile;
    }

    /** Which store the server runs on, for people: the SQLite file, or the PostgreSQL URL without its parameters. */
    public String storeDescription() {
        if (storeFile != null) {
            return storeFile.toString();
        }
        PostgresOptions pg = config.postgres();
        return "PostgreSQL " + pg.safeUrl() + (pg.schema() != null ? " schema " + pg.schema() : "");
    }

    /** Which secrets webhooks are signed with, and the one generated by this start (to be shown once), if any. */
    public WebhookSigningSetup webhookSigning() {
        return webhookSigning;
    }

    /**
     * The {@code default} tenant's API key if this start generated it (the first start on an empty store without
     * {@code HOURGLASS_DEFAULT_API_KEY}), to be shown to the operator once; null otherwise.
     */
    public String generatedDefaultKey() {
        return generatedDefaultKey;
    }

    /** The tenants and API keys, as this node sees them. */
    public TenantDirectory tenants() {
        return tenants;
    }

    /** The hosts and ranges webhooks may reach although they are loopback, private, link-local or metadata. */
    public WebhookAllowlist webhookAllowlist() {
        return config.webhookAllowlist();
    }

    /** The engine, for embedding code and tests that look behind the API. */
    public Hourglass hourglass() {
        return hourglass;
    }

    /**
     * Stops accepting requests, lets the ones in progress finish (up to the stop grace), then closes the engine
     * (waits for running attempts up to its shutdown grace and hands its claims back) and the store. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("stopping: no new requests; finishing those in progress");
        // Waits at most the stop grace (to the millisecond) for requests in progress, then closes what is left.
        http.close();
        recurring.close(); // before the engine: a round in progress still creates its runs
        try {
            hourglass.close();
        } finally {
            webhookClient.close(CloseMode.IMMEDIATE);
            queues.close();
            quotas.close();
            tenants.close();
            telemetry.close(); // after the last attempt: its span is exported too
            if (metricsServer != null) {
                metricsServer.close();
            }
            if (metrics != null) {
                metrics.close();
            }
        }
        log.info("stopped");
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() != null ? firstLine(e.getMessage()) : e.getClass().getSimpleName();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).trim();
    }
}
