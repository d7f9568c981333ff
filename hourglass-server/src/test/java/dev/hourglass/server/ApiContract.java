package dev.hourglass.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import dev.hourglass.http.OpenApiContract;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Holds every answer the tests receive to the API's OpenAPI contract ({@code openapi.yaml} in hourglass-http): the
 * status must be one the operation lists, each header it lists as required must be there and match its schema, the
 * {@code Content-Type} must be one it lists, and a JSON body must match its schema (JSON Schema 2020-12 with OpenAPI
 * 3.1's dialect, by networknt's validator). An answer the contract does not describe is an {@link AssertionError}.
 *
 * <p>A path the contract does not list may answer only what its description promises for any path: 404
 * {@code not-found}, or the key checks (401, 403, 429); a listed path with a method it does not list, 405 with
 * {@code Allow} or those key checks. Any request may get what the HTTP server itself answers (400, 414, 431, 503
 * {@code overloaded}, 505), as the contract's description says.
 */
public final class ApiContract {
    /** Where networknt reads the contract from: the same resource the server serves. */
    private static final String LOCATION = "classpath:dev/hourglass/http/" + OpenApiContract.RESOURCE;
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Reads answers for the validator (Jackson 3, which it is built on), with no tighter limits than the server's own
     * reader: a payload nested 1000 deep that the server accepted is echoed back in its job.
     */
    private static final tools.jackson.databind.json.JsonMapper ANSWERS = tools.jackson.databind.json.JsonMapper
            .builder(tools.jackson.core.json.JsonFactory.builder().streamReadConstraints(
                    tools.jackson.core.StreamReadConstraints.builder().maxNestingDepth(100_000)
                            .maxNumberLength(10_000_000).maxStringLength(Integer.MAX_VALUE).build()).build())
            .build();
    private static final ApiContract INSTANCE = new ApiContract();

    /** What a path the contract does not list, or a method it does not list, may answer besides 404 or 405. */
    private static final List<String> KEY_CHECKS = List.of("Unauthorized", "AdminForbidden", "AuthThrottled");
    /** What the HTTP server itself may answer to any request, before it reaches an operation (the info says so). */
    private static final List<String> ANY_REQUEST = List.of("ProtocolError", "UriTooLong", "HeadersTooLarge",
            "Overloaded", "HttpVersionNotSupported");

    private final JsonNode document;
    private final List<Route> routes = new ArrayList<>();
    private final SchemaRegistry registry = SchemaRegistry.withDialect(Dialects.getOpenApi31());
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

    /** A path of the contract, as a regex over raw request paths. */
    private record Route(String template, Pattern pattern) {}

    private ApiContract() {
        try (InputStream in = OpenApiContract.class.getResourceAsStream(OpenApiContract.RESOURCE)) {
            document = new YAMLMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Iterator<String> it = document.get("paths").fieldNames(); it.hasNext(); ) {
            String template = it.next();
            String regex = Pattern.quote(template).replaceAll("\\{[^}]+}", "\\\\E[^/]+\\\\Q");
            routes.add(new Route(template, Pattern.compile(regex)));
        }
    }

    /** Checks {@code response} against the contract; returns it, for use in an expression. */
    public static <T> HttpResponse<T> check(HttpResponse<T> response) {
        String body = response.body() instanceof String s ? s : null;
        INSTANCE.check(response.request().method(), response.request().uri().getRawPath(), response.statusCode(),
                response.headers(), body);
        return response;
    }

    /** Checks one answer: to {@code method path}, {@code status} with {@code headers} and {@code body}. */
    public static void check(String method, String path, int status, HttpHeaders headers, String body) {
        INSTANCE.checkAnswer(method, path, status, headers, body);
    }

    private void checkAnswer(String method, String path, int status, HttpHeaders headers, String body) {
        String answer = method + " " + path + " answered " + status + " " + headers.firstValue("Content-Type")
                .orElse("(no Content-Type)") + " " + abbreviate(body);
        Route route = routes.stream().filter(r -> r.pattern().matcher(path).matches())
                .min((a, b) -> Long.compare(braces(a.template()), braces(b.template()))).orElse(null);
        List<String> pointers = new ArrayList<>();
        if (route == null) {
            pointers.add("/components/responses/NotFound");
            KEY_CHECKS.forEach(name -> pointers.add("/components/responses/" + name));
        } else {
            String operation = "/paths/" + escape(route.template()) + "/" + method.toLowerCase(Locale.ROOT);
            if (at(operation).isMissingNode()) {
                pointers.add("/components/responses/MethodNotAllowed");
                KEY_CHECKS.forEach(name -> pointers.add("/components/responses/" + name));
            } else {
                pointers.add(operation + "/responses/" + status);
            }
        }
        ANY_REQUEST.forEach(name -> pointers.add("/components/responses/" + name));
        List<String> failures = new ArrayList<>();
        for (String pointer : pointers) {
            JsonNode response = at(pointer);
            if (response.isMissingNode()) {
                continue;
            }
            String resolved = resolve(pointer);
            List<String> problems = problems(resolved, status, headers, body);
            if (problems.isEmpty()) {
                return;
            }
            failures.add(resolved + ": " + String.join("; ", problems));
        }
        throw new AssertionError("the OpenAPI contract does not describe this answer: " + answer
                + (failures.isEmpty() ? " (no response for this status)" : "\n  " + String.join("\n  ", failures)));
    }

    /** What in the answer breaks the response at {@code pointer} (resolved): headers, media type, body. */
    private List<String> problems(String pointer, int status, HttpHeaders headers, String body) {
        JsonNode response = at(pointer);
        List<String> problems = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = response.path("headers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> header = it.next();
            String headerPointer = resolve(pointer + "/headers/" + escape(header.getKey()));
            JsonNode spec = at(headerPointer);
            var value = headers.firstValue(header.getKey());
            if (value.isEmpty()) {
                if (spec.path("required").asBoolean(false)) {
                    problems.add("header " + header.getKey() + " is required");
                }
                continue;
            }
            List<String> errors = validate(headerPointer + "/schema", headerJson(value.get()));
            if (!errors.isEmpty()) {
                problems.add("header " + header.getKey() + ": " + value.get() + ": " + errors);
            }
        }
        JsonNode content = response.path("content");
        String contentType = headers.firstValue("Content-Type").map(ApiContract::mediaType).orElse(null);
        if (content.isMissingNode() || content.isEmpty()) {
            if (body != null && !body.isEmpty()) {
                problems.add("no body is described, got one");
            }
            return problems;
        }
        if (contentType == null || !content.has(contentType)) {
            problems.add("Content-Type " + contentType + " is not one of " + fieldNames(content));
            return problems;
        }
        if (body != null && (contentType.endsWith("/json") || contentType.endsWith("+json"))) {
            List<String> errors = validate(pointer + "/content/" + escape(contentType) + "/schema", body);
            if (!errors.isEmpty()) {
                problems.add("body: " + errors);
            }
            if (contentType.equals("application/problem+json") && errors.isEmpty()
                    && readTree(body).path("status").asInt() != status) {
                problems.add("the problem's status is not the answer's, " + status);
            }
        }
        return problems;
    }

    /** The schema at {@code pointer}'s complaints about {@code json}; none when it is valid. */
    private List<String> validate(String pointer, String json) {
        Schema schema = schemas.computeIfAbsent(pointer, p -> registry.getSchema(SchemaLocation.of(LOCATION + "#"
                + p.replace("{", "%7B").replace("}", "%7D"))));
        tools.jackson.databind.JsonNode node;
        try {
            node = ANSWERS.readTree(json);
        } catch (RuntimeException e) {
            return List.of("not JSON: " + e.getMessage());
        }
        return schema.validate(node).stream().map(Error::toString).toList();
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }

    /** A header's text as JSON: a number when it is one (Retry-After), else a string. */
    private static String headerJson(String value) {
        if (value.matches("-?[0-9]{1,18}")) {
            return value;
        }
        return JSON.getNodeFactory().textNode(value).toString();
    }

    /** Follows {@code $ref}s from {@code pointer} to the object they name. */
    private String resolve(String pointer) {
        String current = pointer;
        for (int hops = 0; hops < 10; hops++) {
            JsonNode node = at(current);
            if (!node.has("$ref")) {
                return current;
            }
            current = node.get("$ref").asText().substring(1); // local references only: "#/components/..."
        }
        throw new AssertionError("$ref cycle at " + pointer);
    }

    private JsonNode at(String pointer) {
        return document.at(pointer);
    }

    private static long braces(String template) {
        return template.chars().filter(c -> c == '{').count();
    }

    private static String escape(String token) {
        return token.replace("~", "~0").replace("/", "~1");
    }

    private static String mediaType(String contentType) {
        return contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String abbreviate(String body) {
        if (body == null) {
            return "";
        }
        return body.length() <= 300 ? body : body.substring(0, 297) + "...";
    }
}
