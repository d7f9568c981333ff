package dev.hourglass.server.cli;

import dev.hourglass.server.HourglassServer;
import dev.hourglass.server.ServerConfig;
import dev.hourglass.server.ServerKeys;
import dev.hourglass.server.StartupException;
import dev.hourglass.server.WebhookSigningSetup;
import dev.hourglass.server.config.ConfigFile;
import dev.hourglass.server.config.DurationText;
import dev.hourglass.server.config.ResolvedSettings;
import dev.hourglass.server.config.ServerSettings;
import dev.hourglass.server.config.Setting;
import dev.hourglass.server.config.Settings;
import dev.hourglass.server.logging.LogOptions;
import dev.hourglass.server.logging.ServerLogging;
import dev.hourglass.webhook.address.WebhookAllowlist;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * {@code hourglass server}: runs the scheduler with its HTTP API on the embedded SQLite store until SIGTERM/SIGINT,
 * then shuts down gracefully (stop HTTP, then the engine hands its claims back). A configuration it cannot start
 * with (a value out of range, port taken, data directory unusable, store locked by another process) is one line on
 * stderr and exit code 2.
 *
 * <p>Its options are made from {@link Settings#ALL} ({@link SettingOptions}), so every setting has its flag, its
 * environment variable and its configuration-file key, and the help names all three with the default.
 */
@Command(name = "server",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        abbreviateSynopsis = true,
        modelTransformer = ServerCommand.SettingOptions.class,
        description = "Run the scheduler and its HTTP API on the embedded SQLite store, or on PostgreSQL.%n"
                + "Every option can also be given by its environment variable or in the config file (--config); "
                + "a flag wins over the environment, the environment over the file, the file over the default.",
        optionListHeading = "%nOptions:%n")
final class ServerCommand implements Callable<Integer> {
    private final Map<String, String> env;

    @Option(names = "--print-config",
            description = "Print every setting's value and where it came from (flag, env, file, default; secrets "
                    + "hidden), after checking them all, and exit without starting.")
    boolean printConfig;

    @CommandLine.Spec
    CommandSpec spec;

    ServerCommand(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ResolvedSettings settings;
        ServerConfig config;
        HourglassServer server;
        try {
            settings = ResolvedSettings.resolve(flags(), env);
            config = ServerSettings.toServerConfig(settings);
            LogOptions logging = ServerSettings.logging(settings);
            if (printConfig) {
                config.validate();
                printSettings(out, settings);
                return 0;
            }
            ServerLogging.configure(logging);
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
        ConfigFile file = settings.file();
        if (file != null) {
            out.println("Configuration file: " + file.path().toAbsolutePath());
            if (file.secretsReadableByOthers()) {
                out.println("Warning: " + file.path() + " holds a key or password and other users may read it: "
                        + "chmod 600 it, or move the secret to the environment");
            }
        }
        printWebhookSecurity(out, server);
        out.println(server.queueConnections().isEmpty() ? "Queue connections: none (--connection NAME=URI)"
                : "Queue connections: " + server.queueConnections().stream()
                        .map(c -> c + " (" + c.type().id() + ")").collect(java.util.stream.Collectors.joining(", ")));
        printKeys(out, server, config.keys());
        out.flush();
        stopped.await(); // until SIGTERM/SIGINT; the hook closes the server, then the JVM exits
        return 0;
    }

    /** The values given on the command line, by setting. */
    private Map<Setting, String> flags() {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        Map<Setting, String> flags = new HashMap<>();
        for (Setting s : Settings.ALL) {
            if (s == Settings.CONNECTION && parsed.hasMatchedOption(s.flag())) {
                flags.put(s, String.join(" ", parsed.matchedOptionValue(s.flag(), new String[0])));
            } else if (s.flag() != null && parsed.hasMatchedOption(s.flag())) {
                flags.put(s, parsed.matchedOptionValue(s.flag(), (String) null));
            }
        }
        return flags;
    }

    /** {@code name = value (source)}, one line per setting; secrets as {@code (hidden)}. */
    private static void printSettings(PrintWriter out, ResolvedSettings settings) {
        out.println("# hourglass server settings: flag > environment > config file > default");
        for (ResolvedSettings.Value v : settings.all()) {
            Setting s = v.setting();
            String line = switch (v.source()) {
                case FLAG -> shown(v) + " (flag " + s.flag() + ")";
                case ENV -> shown(v) + " (env " + s.env() + ")";
                case FILE -> shown(v) + " (file " + settings.file().path() + ")";
                case DEFAULT -> shown(v) + " (default)";
                case NONE -> s.defaultDescription() == null ? "(not set)"
                        : "(not set: " + s.defaultDescription() + ")";
            };
            out.println(s.name() + " = " + line);
        }
        out.flush();
    }

    private static String shown(ResolvedSettings.Value v) {
        if (v.setting() == Settings.CONNECTION) { // a URI's user and password are never shown
            return v.text().replaceAll("//[^/@\\s]*@", "//(hidden)@");
        }
        return v.setting().secret() ? "(hidden)" : v.text();
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
        out.println(server.metricsUri().map(uri -> "Metrics: " + uri + (uri.getPort() != server.port() ? " (no key)"
                : keys.adminKey() != null ? " (with the admin key)" : "")).orElse("Metrics: off"));
    }

    /**
     * Adds one option per setting that has a flag, and lists those without one (the secrets) in the footer, so that
     * the help names every environment variable the server reads. Options are text here; {@link ResolvedSettings}
     * checks them as it checks the environment and the file.
     */
    static final class SettingOptions implements CommandLine.IModelTransformer {
        private static final int FOOTER_WIDTH = 78; // within picocli's usage width, which would wrap without indenting

        /** {@code text} in lines of at most {@code width} characters, each starting with {@code indent}. */
        private static List<String> wrap(String text, String indent, int width) {
            List<String> lines = new ArrayList<>();
            StringBuilder line = new StringBuilder(indent);
            for (String word : text.split(" ")) {
                if (line.length() > indent.length() && line.length() + 1 + word.length() > width) {
                    lines.add(line.toString());
                    line = new StringBuilder(indent);
                }
                if (line.length() > indent.length()) {
                    line.append(' ');
                }
                line.append(word);
            }
            lines.add(line.toString());
            return lines;
        }

        @Override
        public CommandSpec transform(CommandSpec spec) {
            List<String> footer = new ArrayList<>();
            footer.add("");
            footer.add("Settings without a flag, from the environment or the config file (secrets: a flag");
            footer.add("would show in the process list, and the environment is safer than a file):");
            for (Setting s : Settings.ALL) {
                if (s.flag() != null) {
                    spec.addOption(OptionSpec.builder(s.flag())
                            .paramLabel(s.paramLabel())
                            // --connection is repeated, one per connection; every other flag takes one value.
                            .type(s == Settings.CONNECTION ? String[].class : String.class)
                            .arity("1")
                            .description(s.description() + " (env " + s.env()
                                    + (s.key() != null ? ", file key " + s.key() : "")
                                    + ", default " + s.shownDefault() + ")")
                            .build());
                } else {
                    footer.add("  " + s.env() + " (file key " + s.key() + ")");
                    footer.addAll(wrap(s.description(), "      ", FOOTER_WIDTH));
                }
            }
            footer.add("");
            footer.addAll(wrap("Durations: " + DurationText.EXAMPLES + ". The default node id is made of the "
                    + "HOSTNAME variable and the process id. Every setting: docs/operations.md#configuration; "
                    + "a config file to start from: docs/hourglass.properties.", "", FOOTER_WIDTH));
            spec.usageMessage().footer(footer.toArray(String[]::new));
            return spec;
        }
    }
}
