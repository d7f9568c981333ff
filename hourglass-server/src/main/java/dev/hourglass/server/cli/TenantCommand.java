package dev.hourglass.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
    private static final ObjectMapper JSON = new ObjectMapper();
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
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String adminKey = System.getenv("HOURGLASS_ADMIN_KEY");
        if (adminKey == null || adminKey.isBlank()) {
            err.println("hourglass: set HOURGLASS_ADMIN_KEY to the server's admin key");
            err.flush();
            return Main.EXIT_CONFIG;
        }
        URI target = url.resolve(path);
        HttpRequest.Builder request = HttpRequest.newBuilder(target)
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + adminKey.strip());
        try {
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            HttpResponse<String> response;
            try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
                response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            }
            JsonNode answer = parse(response.body());
            if (response.statusCode() / 100 == 2) {
                out.println(answer == null ? response.body()
                        : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
                out.flush();
                return 0;
            }
            String detail = answer != null && answer.hasNonNull("detail") ? answer.get("detail").asText()
                    : response.body();
            err.println("hourglass: " + response.statusCode() + ": " + detail);
            err.flush();
            return 1;
        } catch (ConnectException e) {
            err.println("hourglass: cannot connect to " + url + " (is the server running? set --url or HOURGLASS_URL)");
        } catch (IOException e) {
            err.println("hourglass: request to " + target + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("hourglass: interrupted");
        }
        err.flush();
        return 1;
    }

    private static JsonNode parse(String body) {
        try {
            return body == null || body.isEmpty() ? null : JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
