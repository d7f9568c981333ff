package dev.hourglass.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code hourglass} command. Subcommands are separate classes; more (such as {@code bench}, from its own
 * module) are added with {@link #commandLine}{@code .addSubcommand(...)} before {@code execute}.
 *
 * <p>Exit codes: 0 success, 1 an unexpected failure, 2 bad usage or configuration (one line on stderr).
 */
@Command(name = "hourglass",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Hourglass: a durable delayed-job scheduler.",
        subcommands = {ServerCommand.class, TenantCommand.class, ScheduleCommand.class, WebhookSecretCommand.class,
                CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        commandListHeading = "%nCommands:%n")
public final class Main implements Runnable {
    public static final int EXIT_CONFIG = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // The process's, so here and not in the commands (which tests run inside their own JVM): a thread that dies
        // ends the process, for its supervisor to restart it.
        Thread.setDefaultUncaughtExceptionHandler(new ProcessSupervisor(Runtime.getRuntime()::halt));
        // The HTTP server logs through java.util.logging: into the application's one log, not straight to stderr.
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        int code = run(args, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8));
        System.exit(code);
    }

    /** Runs the command line with the given output streams and returns the exit code (for tests and embedding). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, System.getenv());
    }

    /** {@link #run(String[], PrintWriter, PrintWriter)} with {@code env} as the server's environment (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
        return commandLine(out, err, env).execute(args);
    }

    /** The configured command line: one-line usage errors, exit code 2 for them. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        return commandLine(out, err, System.getenv());
    }

    /** The configured command line, whose {@code server} reads its settings from {@code env}. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err, Map<String, String> env) {
        Map<String, String> environment = Map.copyOf(env);
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == ServerCommand.class ? type.cast(new ServerCommand(environment))
                        : CommandLine.defaultFactory().create(type);
            }
        };
        CommandLine cli = new CommandLine(new Main(), factory);
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, args) -> {
            CommandLine failed = e.getCommandLine();
            failed.getErr().println("hourglass: " + e.getMessage() + " (see '"
                    + failed.getCommandSpec().qualifiedName() + " --help')");
            failed.getErr().flush();
            return EXIT_CONFIG;
        });
        versionEverywhere(cli);
        return cli;
    }

    /**
     * Every command has {@code --help} and {@code --version} ({@code mixinStandardHelpOptions}); the version text is
     * declared once, on this command, and given here to each subcommand, so {@code -V} never prints nothing.
     */
    private static void versionEverywhere(CommandLine command) {
        for (CommandLine sub : command.getSubcommands().values()) {
            if (sub.getCommandSpec().versionProvider() == null) {
                sub.getCommandSpec().versionProvider(new Version());
            }
            versionEverywhere(sub);
        }
    }

    /** {@code hourglass} alone prints the usage. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the build ({@code version.properties}, filled in by Maven). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"hourglass " + version(), "JVM: ${java.version} (${java.vendor} ${java.vm.name})"};
        }

        static String version() {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/dev/hourglass/server/version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                // fall through to "unknown"
            }
            return p.getProperty("version", "unknown");
        }
    }
}
