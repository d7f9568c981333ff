package dev.hourglass.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/**
 * One request of a command-line subcommand to a running server's API: the key from an environment variable (a flag
 * would show in the process list), the answer printed as indented JSON, a problem's detail on stderr.
 *
 * <p>Exit codes: 0 done, 1 the server refused or could not be reached, 2 no key.
 */
final class ApiRequest {
    static final ObjectMapper JSON = new ObjectMapper();

    private ApiRequest() {}

    /**
     * Sends {@code method path} with {@code body} (null: none) and {@code headers} to {@code server}, the key taken
     * from the environment variable {@code keyVariable}; prints the answer to {@code out} or the problem to
     * {@code err}. Returns the exit code.
     */
    static int send(PrintWriter out, PrintWriter err, URI server, String keyVariable, String method, String path,
            JsonNode body, Map<String, String> headers) {
        String key = System.getenv(keyVariable);
        if (key == null || key.isBlank()) {
            err.println("hourglass: set " + keyVariable + " to " + (keyVariable.contains("ADMIN")
                    ? "the server's admin key" : "your tenant's API key"));
            err.flush();
            return Main.EXIT_CONFIG;
        }
        URI target = server.resolve(path);
        HttpRequest.Builder request = HttpRequest.newBuilder(target)
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key.strip());
        headers.forEach(request::header);
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
            err.println("hourglass: cannot connect to " + server + " (is the server running? set --url or "
                    + "HOURGLASS_URL)");
        } catch (IOException e) {
            err.println("hourglass: request to " + target + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("hourglass: interrupted");
        }
        err.flush();
        return 1;
    }

    /** A path segment, percent-encoded. */
    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static JsonNode parse(String body) {
        try {
            return body == null || body.isEmpty() ? null : JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }
}
