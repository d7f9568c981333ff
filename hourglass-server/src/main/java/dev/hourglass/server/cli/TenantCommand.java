package dev.hourglass.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hourglass tenant ...}: the admin API from the command line. Each subcommand is one request to a running
 * server; the answer is printed as JSON. The admin key comes only from {@code HOURGLASS_ADMIN_KEY} (a flag would
 * show in the process list).
 *
 * <p>Exit codes: 0 done, 1 the server refused (its problem's detail on stderr) or could not be reached, 2 bad usage
 * (including no admin key).
 */
@Command(name = "tenant",
        mixinStandardHelpOptions = true,
        description = "Manage tenants, their API keys and quotas through a running server's admin API "
                + "(admin key from env HOURGLASS_ADMIN_KEY).",
        synopsisSubcommandLabel = "COMMAND",
        commandListHeading = "%nCommands:%n")
final class TenantCommand implements Runnable {
    private static final ObjectMapper JSON = ApiRequest.JSON;
    private static final String TENANTS = "/v1/admin/tenants";

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

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a tenant; prints its API key and webhook secret (shown once).")
    int create(@Parameters(paramLabel = "NAME") String name,
            @Option(names = "--weight", paramLabel = "N", description = "Share of delivery capacity, 1..1000.")
            Integer weight,
            @Option(names = "--quota", paramLabel = "NAME=VALUE", description = "A quota: maxPendingJobs, "
                    + "schedulesPerSecond, scheduleBurst, maxPayloadBytes, maxDelaySeconds, maxInFlight; repeatable.")
            Map<String, Long> quotas) {
        ObjectNode body = JSON.createObjectNode().put("name", name);
        if (weight != null) {
            body.put("weight", weight);
        }
        if (quotas != null) {
            ObjectNode q = body.putObject("quotas");
            quotas.forEach(q::put);
        }
        return call("POST", TENANTS, body);
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the tenants.")
    int list() {
        return call("GET", TENANTS, null);
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show a tenant: weight, quotas, webhook secrets, keys (never a key).")
    int show(@Parameters(paramLabel = "NAME") String name) {
        return call("GET", TENANTS + "/" + segment(name), null);
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = "Change a tenant's weight or quotas, or rotate its webhook secret. "
            + "Applies without a restart.")
    int update(@Parameters(paramLabel = "NAME") String name,
            @Option(names = "--weight", paramLabel = "N", description = "Share of delivery capacity, 1..1000.")
            Integer weight,
            @Option(names = "--quota", paramLabel = "NAME=VALUE", description = "A quota to change; repeatable.")
            Map<String, Long> quotas,
            @Option(names = "--rotate-webhook-secret", description = "Add a new secret; the previous one stays "
                    + "valid until --retire-old-webhook-secrets.") boolean rotate,
            @Option(names = "--retire-old-webhook-secrets", description = "Keep only the newest secret.")
            boolean retire) {
        ObjectNode body = JSON.createObjectNode();
        if (weight != null) {
            body.put("weight", weight);
        }
        if (quotas != null) {
            ObjectNode q = body.putObject("quotas");
            quotas.forEach(q::put);
        }
        if (rotate) {
            body.put("rotateWebhookSecret", true);
        }
        if (retire) {
            body.put("retireOldWebhookSecrets", true);
        }
        return call("PATCH", TENANTS + "/" + segment(name), body);
    }

    @Command(name = "add-key", mixinStandardHelpOptions = true,
            description = "Issue another API key for a tenant (shown once), to rotate keys.")
    int addKey(@Parameters(paramLabel = "NAME") String name) {
        return call("POST", TENANTS + "/" + segment(name) + "/keys", null);
    }

    @Command(name = "revoke-key", mixinStandardHelpOptions = true,
            description = "Revoke one of a tenant's API keys.")
    int revokeKey(@Parameters(paramLabel = "NAME") String name, @Parameters(paramLabel = "KEY_ID") String keyId) {
        return call("DELETE", TENANTS + "/" + segment(name) + "/keys/" + segment(keyId), null);
    }

    /** Sends one admin request and prints the answer; returns the exit code. */
    private int call(String method, String path, JsonNode body) {
        return ApiRequest.send(spec.commandLine().getOut(), spec.commandLine().getErr(), url, "HOURGLASS_ADMIN_KEY",
                method, path, body, Map.of());
    }

    private static String segment(String value) {
        return ApiRequest.segment(value);
    }
}
