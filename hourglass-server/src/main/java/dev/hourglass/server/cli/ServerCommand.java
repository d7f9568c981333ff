package dev.hourglass.server.cli;

import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.ServerConfig;
import dev.hourglass.server.ServerKeys;
import dev.hourglass.server.StartupException;
import dev.hourglass.server.WebhookSigningSetup;
import dev.hourglass.store.postgres.PostgresOptions;
import dev.hourglass.webhook.address.WebhookAllowlist;
import dev.hourglass.webhook.signing.SigningSecret;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code hourglass server}: runs the scheduler with its HTTP API on the embedded SQLite store until SIGTERM/SIGINT,
 * then shuts down gracefully (stop HTTP, then the engine hands its claims back). A configuration it cannot start
 * with (port taken, data directory unusable, store locked by another process) is one line on stderr and exit code 2.
 */
@Command(name = "server",
        mixinStandardHelpOptions = true,
        description = "Run the scheduler and its HTTP API on the embedded SQLite store, or on PostgreSQL.")
final class ServerCommand implements Callable<Integer> {

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:HOURGLASS_PORT:-8080}",
            description = "Port to listen on; 0 picks a free one (env HOURGLASS_PORT, default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "${env:HOURGLASS_BIND:-127.0.0.1}",
            description = "Address to listen on (env HOURGLASS_BIND, default ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "${env:HOURGLASS_DATA:-./hourglass-data}",
            description = "Data directory; the store is DIR/hourglass.db (env HOURGLASS_DATA, default "
                    + "${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--store", paramLabel = "sqlite|postgres", defaultValue = "${env:HOURGLASS_STORE:-sqlite}",
            description = "The store: the embedded SQLite file, or PostgreSQL (env HOURGLASS_STORE, default "
                    + "${DEFAULT-VALUE}).")
    String store;

    @Option(names = "--jdbc-url", paramLabel = "URL", defaultValue = "${env:HOURGLASS_JDBC_URL}",
            description = "PostgreSQL JDBC URL, e.g. jdbc:postgresql://db:5432/hourglass (env HOURGLASS_JDBC_URL).")
    String jdbcUrl;

    @Option(names = "--db-user", paramLabel = "USER", defaultValue = "${env:HOURGLASS_DB_USER}",
            description = "PostgreSQL user (env HOURGLASS_DB_USER).")
    String dbUser;

    @Option(names = "--db-pool-size", paramLabel = "N",
            defaultValue = "${env:HOURGLASS_DB_POOL_SIZE:-" + PostgresOptions.DEFAULT_POOL_SIZE + "}",
            description = "PostgreSQL connections (env HOURGLASS_DB_POOL_SIZE, default ${DEFAULT-VALUE}).")
    int dbPoolSize;

    @Option(names = "--db-schema", paramLabel = "SCHEMA", defaultValue = "${env:HOURGLASS_DB_SCHEMA}",
            description = "PostgreSQL schema for Hourglass's tables, created if missing (env HOURGLASS_DB_SCHEMA, "
                    + "default: the connection's current schema).")
    String dbSchema;

    @Option(names = "--store-timeout", paramLabel = "SECONDS",
            defaultValue = "${env:HOURGLASS_STORE_TIMEOUT:-5}",
            description = "The longest an API request waits for the store before it is answered 503 with Retry-After "
                    + "(env HOURGLASS_STORE_TIMEOUT, default ${DEFAULT-VALUE}).")
    double storeTimeoutSeconds;

    @Option(names = "--db-socket-timeout", paramLabel = "SECONDS",
            defaultValue = "${env:HOURGLASS_DB_SOCKET_TIMEOUT:-10}",
            description = "PostgreSQL: how long one statement's answer may take before the connection counts as lost "
                    + "(env HOURGLASS_DB_SOCKET_TIMEOUT, default ${DEFAULT-VALUE}).")
    double dbSocketTimeoutSeconds;

    @Option(names = "--node-id", paramLabel = "ID", defaultValue = "${env:HOURGLASS_NODE_ID}",
            description = "This node's name in the store's claims; unique per running node (env HOURGLASS_NODE_ID, "
                    + "default: HOSTNAME-pid).")
    String nodeId;

    // No ${DEFAULT-VALUE} in this description: --help must not print the secrets taken from the environment.
    @Option(names = "--webhook-secret", paramLabel = "whsec_...[,whsec_...]",
            defaultValue = "${env:HOURGLASS_WEBHOOK_SECRETS}",
            description = "Secrets webhooks are signed with (Standard Webhooks), comma-separated, newest first; every "
                    + "one signs each delivery, so a receiver may know any of them while you rotate. Prefer the env "
                    + "HOURGLASS_WEBHOOK_SECRETS: a flag shows in the process list. Default: the secret in "
                    + "DIR/webhook-secret, generated on the first start (sqlite); required with --store postgres.")
    String webhookSecrets;

    @Option(names = "--webhook-allowlist", paramLabel = "CIDR|HOST[,...]",
            defaultValue = "${env:HOURGLASS_WEBHOOK_ALLOWLIST}",
            description = "Loopback, private, link-local or metadata addresses webhooks may reach all the same: CIDR "
                    + "ranges, addresses and host names, comma-separated, e.g. 127.0.0.0/8,::1 for local experiments "
                    + "(env HOURGLASS_WEBHOOK_ALLOWLIST, default: none).")
    String webhookAllowlist;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ServerConfig config = ServerConfig.defaults().withPort(port).withBind(bind).withDataDir(data);
        HourglassServer server;
        try {
            config = withStore(config).withStoreTimeout(seconds("--store-timeout", storeTimeoutSeconds));
            config = withNodeId(config);
            config = withWebhookSecurity(config);
            // Keys come only from the environment: a flag would show them in the process list.
            config = config.withKeys(new ServerKeys(System.getenv("HOURGLASS_ADMIN_KEY"),
                    System.getenv("HOURGLASS_DEFAULT_API_KEY")));
            server = HourglassServer.start(config);
        } catch (StartupException e) {
            err.println("hourglass: " + e.getMessage());
            err.flush();
            return Main.EXIT_CONFIG;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("hourglass-shutdown").unstarted(() -> {
            try {
                server.close();
            } finally {
                stopped.countDown();
            }
        }));
        out.println("Hourglass listening on " + server.baseUri() + " (store: " + server.storeDescription() + ")");
        printWebhookSecurity(out, server);
        printKeys(out, server, config.keys());
        out.flush();
        stopped.await(); // until SIGTERM/SIGINT; the hook closes the server, then the JVM exits
        return 0;
    }

    /**
     * Applies --store and the PostgreSQL options. The password comes only from HOURGLASS_DB_PASSWORD (or the URL), so
     * it never shows in the process list.
     */
    private ServerConfig withStore(ServerConfig config) {
        switch (store) {
            case "sqlite" -> {
                if (jdbcUrl != null && !jdbcUrl.isBlank()) {
                    throw new StartupException("--jdbc-url is for --store postgres; the sqlite store lives in --data");
                }
                if (dbSchema != null && !dbSchema.isBlank()) {
                    throw new StartupException("--db-schema is for --store postgres");
                }
                return config;
            }
            case "postgres" -> {
                if (jdbcUrl == null || jdbcUrl.isBlank()) {
                    throw new StartupException("--store postgres needs --jdbc-url (or HOURGLASS_JDBC_URL)");
                }
                try {
                    return config.withPostgres(PostgresOptions.of(jdbcUrl, blankToNull(dbUser),
                            blankToNull(System.getenv("HOURGLASS_DB_PASSWORD"))).withPoolSize(dbPoolSize)
                            .withSchema(blankToNull(dbSchema))
                            .withSocketTimeout(seconds("--db-socket-timeout", dbSocketTimeoutSeconds)));
                } catch (IllegalArgumentException e) {
                    throw new StartupException(e.getMessage());
                }
            }
            default -> throw new StartupException("--store must be sqlite or postgres, was '" + store + "'");
        }
    }

    private ServerConfig withNodeId(ServerConfig config) {
        if (nodeId == null || nodeId.isBlank()) {
            return config; // the server picks HOSTNAME-pid
        }
        try {
            return config.withEngine(EngineConfig.defaults(nodeId).validate());
        } catch (IllegalArgumentException e) {
            throw new StartupException("--node-id: " + e.getMessage());
        }
    }

    /** --webhook-secret and --webhook-allowlist (or their env variables). */
    private ServerConfig withWebhookSecurity(ServerConfig config) {
        List<SigningSecret> secrets = new ArrayList<>();
        if (webhookSecrets != null && !webhookSecrets.isBlank()) {
            String[] entries = webhookSecrets.split(",");
            for (int i = 0; i < entries.length; i++) {
                try {
                    secrets.add(SigningSecret.parse(entries[i]));
                } catch (IllegalArgumentException e) {
                    // The entry itself is never echoed: it may be a real secret with a typo.
                    throw new StartupException("--webhook-secret / HOURGLASS_WEBHOOK_SECRETS, secret " + (i + 1)
                            + " of " + entries.length + ": " + e.getMessage());
                }
            }
        }
        try {
            return config.withWebhookSecrets(secrets).withWebhookAllowlist(WebhookAllowlist.parse(webhookAllowlist));
        } catch (IllegalArgumentException e) {
            throw new StartupException("--webhook-allowlist / HOURGLASS_WEBHOOK_ALLOWLIST: " + e.getMessage());
        }
    }

    /**
     * Where the webhook secret is and what the allowlist holds. A secret is printed only when this start generated it
     * (once: it is in the data directory from then on); otherwise only key ids.
     */
    private static void printWebhookSecurity(PrintWriter out, HourglassServer server) {
        WebhookSigningSetup signing = server.webhookSigning();
        out.println("Webhooks are signed with " + signing.description());
        if (signing.generated() != null) {
            out.println("New webhook signing secret, shown only this once (give it to your receivers): "
                    + signing.generated().encoded());
        }
        WebhookAllowlist allowlist = server.webhookAllowlist();
        out.println(allowlist.isEmpty()
                ? "Webhook allowlist: none (targets on loopback, private, link-local, CGNAT, multicast and metadata "
                        + "addresses are refused)"
                : "Webhook allowlist: " + allowlist);
    }

    /** The default tenant's key when this start generated it (once), and whether the admin API is on. */
    private static void printKeys(PrintWriter out, HourglassServer server, ServerKeys keys) {
        if (server.generatedDefaultKey() != null) {
            out.println("API key of tenant 'default', shown only this once (send it as 'Authorization: Bearer <key>'; "
                    + "set HOURGLASS_DEFAULT_API_KEY to choose it yourself): " + server.generatedDefaultKey());
        }
        out.println(keys.adminKey() != null ? "Admin API: on (/v1/admin/tenants, key from HOURGLASS_ADMIN_KEY)"
                : "Admin API: off (set HOURGLASS_ADMIN_KEY to manage tenants)");
    }

    /** A positive number of seconds (fractions allowed) as a Duration; else one clear line. */
    private static java.time.Duration seconds(String option, double value) {
        if (!(value > 0) || value > 86_400) {
            throw new StartupException(option + " must be a number of seconds > 0 and <= 86400, was " + value);
        }
        return java.time.Duration.ofMillis(Math.max(1, Math.round(value * 1000)));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
