package dev.hourglass.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hourglass schedule ...}: a tenant's recurring schedules from the command line (docs/recurring.md). Each
 * subcommand is one request to a running server's {@code /v1/schedules}; the answer is printed as JSON. The tenant's
 * key comes only from {@code HOURGLASS_API_KEY}.
 *
 * <p>Exit codes: 0 done, 1 the server refused (its problem's detail on stderr) or could not be reached, 2 bad usage
 * (including no key).
 */
@Command(name = "schedule",
        mixinStandardHelpOptions = true,
        description = "Manage your recurring schedules through a running server (tenant key from env "
                + "HOURGLASS_API_KEY).",
        synopsisSubcommandLabel = "COMMAND",
        commandListHeading = "%nCommands:%n")
final class ScheduleCommand implements Runnable {
    private static final String SCHEDULES = "/v1/schedules";

    @Option(names = "--url", paramLabel = "URL", defaultValue = "${env:HOURGLASS_URL:-http://127.0.0.1:8080}",
            scope = CommandLine.ScopeType.INHERIT,
            description = "The server (env HOURGLASS_URL, default ${DEFAULT-VALUE}).")
    URI url;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Exactly one of the two ways to say when. */
    static final class When {
        @ArgGroup(exclusive = false, multiplicity = "1")
        Cron cron;

        @Option(names = "--every", paramLabel = "DURATION", required = true,
                description = "An ISO-8601 interval of at least a second, such as PT15M.")
        String every;
    }

    static final class Cron {
        @Option(names = "--cron", paramLabel = "EXPR", required = true,
                description = "A cron expression: 5 fields, 6 with leading seconds, or a macro such as @daily.")
        String expression;

        @Option(names = "--timezone", paramLabel = "ZONE", required = true,
                description = "The IANA zone the cron expression is read in, such as Europe/Amsterdam.")
        String timezone;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a schedule whose runs are webhooks to --target.")
    int create(@Parameters(paramLabel = "NAME") String name,
            @ArgGroup(exclusive = true, multiplicity = "1") When when,
            @Option(names = "--target", paramLabel = "URL", required = true,
                    description = "The webhook URL each run is posted to.") String target,
            @Option(names = "--header", paramLabel = "NAME=VALUE", description = "A header sent with each run; "
                    + "repeatable.") Map<String, String> headers,
            @Option(names = "--payload", paramLabel = "JSON", description = "The body of each run, JSON.")
            String payload,
            @Option(names = "--start-at", paramLabel = "TIME", description = "No run before this (RFC 3339).")
            String startAt,
            @Option(names = "--end-at", paramLabel = "TIME", description = "No run after this (RFC 3339).")
            String endAt,
            @Option(names = "--jitter-seconds", paramLabel = "N") Long jitter,
            @Option(names = "--misfire", paramLabel = "RULE", description = "fireOnce (default), fireAll or skip.")
            String misfire,
            @Option(names = "--catchup-window-seconds", paramLabel = "N") Long catchupWindow,
            @Option(names = "--dst-gap", paramLabel = "RULE", description = "shift (default) or skip.") String dstGap,
            @Option(names = "--max-attempts", paramLabel = "N") Integer maxAttempts,
            @Option(names = "--timeout-seconds", paramLabel = "N") Integer timeout,
            @Option(names = "--paused", description = "Create it paused.") boolean paused,
            @Option(names = "--idempotency-key", paramLabel = "KEY",
                    description = "Repeat the command with the same key to get the same schedule, never a second.")
            String idempotencyKey) {
        ObjectNode body = ApiRequest.JSON.createObjectNode().put("name", name);
        if (when.cron != null) {
            body.put("cron", when.cron.expression).put("timezone", when.cron.timezone);
        } else {
            body.put("every", when.every);
        }
        ObjectNode targetNode = body.putObject("target").put("type", "webhook").put("url", target);
        if (headers != null && !headers.isEmpty()) {
            ObjectNode h = targetNode.putObject("headers");
            headers.forEach(h::put);
        }
        if (payload != null) {
            try {
                body.set("payload", ApiRequest.JSON.readTree(payload));
            } catch (JsonProcessingException e) {
                spec.commandLine().getErr().println("hourglass: --payload is not JSON: " + e.getOriginalMessage());
                spec.commandLine().getErr().flush();
                return Main.EXIT_CONFIG;
            }
        }
        putIfSet(body, "startAt", startAt);
        putIfSet(body, "endAt", endAt);
        putIfSet(body, "misfire", misfire);
        putIfSet(body, "dstGap", dstGap);
        if (jitter != null) {
            body.put("jitterSeconds", jitter);
        }
        if (catchupWindow != null) {
            body.put("catchupWindowSeconds", catchupWindow);
        }
        if (maxAttempts != null) {
            body.put("maxAttempts", maxAttempts);
        }
        if (timeout != null) {
            body.put("timeoutSeconds", timeout);
        }
        if (paused) {
            body.put("paused", true);
        }
        Map<String, String> requestHeaders = new LinkedHashMap<>();
        if (idempotencyKey != null) {
            requestHeaders.put("Idempotency-Key", idempotencyKey);
        }
        return call("POST", SCHEDULES, body, requestHeaders);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List your schedules, in id order.")
    int list(@Option(names = "--limit", paramLabel = "N", defaultValue = "100") int limit,
            @Option(names = "--cursor", paramLabel = "ID", description = "The nextCursor of the previous page.")
            String cursor) {
        return call("GET", SCHEDULES + "?limit=" + limit + (cursor == null ? "" : "&cursor="
                + ApiRequest.segment(cursor)), null, Map.of());
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one schedule.")
    int show(@Parameters(paramLabel = "ID") String id) {
        return call("GET", path(id, ""), null, Map.of());
    }

    @Command(name = "preview", mixinStandardHelpOptions = true,
            description = "The next run times, in UTC and in the schedule's zone.")
    int preview(@Parameters(paramLabel = "ID") String id,
            @Option(names = {"-n", "--count"}, paramLabel = "N", defaultValue = "10") int n) {
        return call("GET", path(id, "/preview") + "?n=" + n, null, Map.of());
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Pause: the runs not yet started are cancelled; none is created until resumed.")
    int pause(@Parameters(paramLabel = "ID") String id) {
        return call("POST", path(id, "/pause"), null, Map.of());
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Resume: the runs missed meanwhile follow the schedule's misfire rule.")
    int resume(@Parameters(paramLabel = "ID") String id) {
        return call("POST", path(id, "/resume"), null, Map.of());
    }

    @Command(name = "trigger", mixinStandardHelpOptions = true, description = "Run it once now.")
    int trigger(@Parameters(paramLabel = "ID") String id) {
        return call("POST", path(id, "/trigger"), null, Map.of());
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete it: the runs not yet started are cancelled.")
    int delete(@Parameters(paramLabel = "ID") String id) {
        return call("DELETE", path(id, ""), null, Map.of());
    }

    private int call(String method, String path, JsonNode body, Map<String, String> headers) {
        return ApiRequest.send(spec.commandLine().getOut(), spec.commandLine().getErr(), url, "HOURGLASS_API_KEY",
                method, path, body, headers);
    }

    private static String path(String id, String suffix) {
        return SCHEDULES + "/" + ApiRequest.segment(id) + suffix;
    }

    private static void putIfSet(ObjectNode body, String field, String value) {
        if (value != null) {
            body.put(field, value);
        }
    }
}
