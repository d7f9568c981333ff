package dev.hourglass.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.tenancy.ApiKey;
import dev.hourglass.tenancy.ApiKeys;
import dev.hourglass.tenancy.Quotas;
import dev.hourglass.tenancy.TargetSettings;
import dev.hourglass.tenancy.Tenant;
import dev.hourglass.tenancy.TenantDirectory;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.signing.SigningSecret;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The admin API: tenants, their keys and quotas. Only the admin key may call it ({@link Authenticator#admin}).
 *
 * <pre>
 * POST   /v1/admin/tenants                     create: {"name", "weight"?, "quotas"?, "targets"?} -> 201 with apiKey
 *                                              (shown once)
 * GET    /v1/admin/tenants                     list
 * GET    /v1/admin/tenants/{name}              one tenant: weight, quotas, webhook secrets, target settings, keys
 *                                              (never a key's text)
 * PATCH  /v1/admin/tenants/{name}              {"weight"?, "quotas"?, "targets"? (of both, only the fields given
 *                                               change), "rotateWebhookSecret"?, "retireOldWebhookSecrets"?}
 * POST   /v1/admin/tenants/{name}/keys         issue another key (rotation) -> 201 with apiKey (shown once)
 * DELETE /v1/admin/tenants/{name}/keys/{id}    revoke a key
 * </pre>
 *
 * A change applies at once on this node and within the directory's refresh interval on the others; no restart.
 * {@code targets} ({@link TargetSettings}) are answered with every field, defaults filled in; a tenant's
 * {@code operationsWebhook} passes the same checks as a job's {@code target.url} ({@link OutboundUrls}), and the
 * default tenant's target settings are the server's, changed in its configuration, not here.
 * Timestamps are written as the jobs' are ({@link Rfc3339#format}: UTC, exactly three fraction digits), so an answer
 * to a create and a later read of the same tenant carry the same text.
 */
final class AdminApi {
    static final String PREFIX = "/v1/admin/tenants";
    private static final Set<String> CREATE_FIELDS = Set.of("name", "weight", "quotas", "targets", "connections");
    private static final Set<String> PATCH_FIELDS = Set.of("weight", "quotas", "targets", "connections",
            "rotateWebhookSecret", "retireOldWebhookSecrets");
    /** More connection names than any server configures. */
    static final int MAX_CONNECTIONS = 100;
    private static final Set<String> QUOTA_FIELDS = Set.of("maxPendingJobs", "schedulesPerSecond", "scheduleBurst",
            "maxPayloadBytes", "maxDelaySeconds", "maxInFlight");
    private static final Set<String> TARGET_FIELDS = Set.of("raiseAt", "clearAt", "minAttempts",
            "consecutiveFailures", "autoPause", "autoPauseAfterSeconds", "operationsWebhook");

    /** An answer: status, body (null for none) and extra headers. */
    record Reply(int status, JsonNode body, Map<String, String> headers) {}

    private final TenantDirectory directory;
    private final ObjectMapper json;
    private final GuardedDnsResolver addressGuard;

    /** @param addressGuard the guard a job's {@code target.url} is checked with; checks operations webhooks too */
    AdminApi(TenantDirectory directory, ObjectMapper json, GuardedDnsResolver addressGuard) {
        this.directory = directory;
        this.json = json;
        this.addressGuard = Objects.requireNonNull(addressGuard, "addressGuard");
    }

    /** Whether the operation at {@code method path} takes a JSON body (read before {@link #handle}). */
    static boolean takesBody(String method, String path) {
        return (method.equals("POST") && path.equals(PREFIX)) || method.equals("PATCH");
    }

    /** Routes a request under {@value #PREFIX}; {@code body} is its JSON body if {@link #takesBody}, else null. */
    Reply handle(String method, String path, byte[] body) {
        String rest = path.equals(PREFIX) ? "" : path.substring(PREFIX.length() + 1);
        String[] parts = rest.isEmpty() ? new String[0] : rest.split("/", -1);
        if (parts.length == 0) {
            return switch (ApiHandler.allow(method, "GET", "POST")) {
                case "GET" -> list();
                default -> create(body);
            };
        }
        String name = parts[0];
        if (parts.length == 1) {
            return switch (ApiHandler.allow(method, "GET", "PATCH")) {
                case "GET" -> show(name);
                default -> patch(name, body);
            };
        }
        if (parts.length == 2 && parts[1].equals("keys")) {
            ApiHandler.allow(method, "POST");
            return issueKey(name);
        }
        if (parts.length == 3 && parts[1].equals("keys")) {
            ApiHandler.allow(method, "DELETE");
            return revokeKey(name, parts[2]);
        }
        throw ApiProblem.of(404, "not-found", "Not found", "no resource at " + path).exception();
    }

    private Reply list() {
        ObjectNode root = json.createObjectNode();
        ArrayNode tenants = root.putArray("tenants");
        for (Tenant t : directory.list()) {
            tenants.add(tenantJson(t, null));
        }
        return new Reply(200, root, Map.of());
    }

    private Reply show(String name) {
        Tenant t = directory.find(name).orElseThrow(() -> unknownTenant(name));
        return new Reply(200, tenantJson(t, directory.keys(name)), Map.of());
    }

    private Reply create(byte[] body) {
        ObjectNode root = object(body);
        List<FieldError> errors = new ArrayList<>();
        unknownFields(root, CREATE_FIELDS, "", errors);
        JsonNode nameNode = root.get("name");
        String name = null;
        if (nameNode == null || !nameNode.isTextual()) {
            errors.add(new FieldError("name", "is required: a string"));
        } else if (!Tenant.validName(nameNode.asText())) {
            errors.add(new FieldError("name", "must be 1..100 characters of a-z, 0-9, '.', '_' or '-', starting "
                    + "with a letter or digit"));
        } else {
            name = nameNode.asText();
        }
        int weight = weight(root.get("weight"), 1, errors);
        Quotas quotas = quotas(root.get("quotas"), Quotas.DEFAULTS, errors);
        TargetSettings targets = targets(root.get("targets"), TargetSettings.DEFAULTS, errors);
        Set<String> connections = connections(root, null, errors);
        throwIfAny(errors);
        String created = name;
        TenantDirectory.Created c = directory.create(name, weight, quotas, targets, connections).orElseThrow(() -> ApiProblem.of(409,
                "tenant-exists", "Tenant exists", "a tenant named '" + created + "' exists already").exception());
        ObjectNode out = tenantJson(c.tenant(), List.of(c.key().stored()));
        out.put("apiKey", c.key().text());
        out.put("apiKeyId", c.key().stored().id());
        out.put("webhookSecret", c.tenant().webhookSecrets().getFirst());
        return new Reply(201, out, Map.of("Location", PREFIX + "/" + name));
    }

    private Reply patch(String name, byte[] body) {
        ObjectNode root = object(body);
        List<FieldError> errors = new ArrayList<>();
        unknownFields(root, PATCH_FIELDS, "", errors);
        Tenant current = directory.find(name).orElseThrow(() -> unknownTenant(name));
        int weight = weight(root.get("weight"), current.weight(), errors);
        Quotas quotas = quotas(root.get("quotas"), current.quotas(), errors);
        TargetSettings targets = targets(root.get("targets"), current.targets(), errors);
        Set<String> connections = connections(root, current.connections(), errors);
        boolean rotate = flag(root, "rotateWebhookSecret", errors);
        boolean retire = flag(root, "retireOldWebhookSecrets", errors);
        throwIfAny(errors);
        if (root.has("targets") && name.equals(TenantDirectory.DEFAULT_TENANT)) {
            // TenantDirectory watches it with the server's settings, and writes them into its row at each start.
            throw ApiProblem.of(409, "configured-targets", "Target settings are configured", "tenant '" + name
                    + "' is watched with the server's target settings (--target-auto-pause, "
                    + "--target-auto-pause-after, --operations-webhook); change them there").exception();
        }
        if ((rotate || retire) && name.equals(TenantDirectory.DEFAULT_TENANT)) {
            throw ApiProblem.of(409, "configured-secret", "Secret is configured", "tenant '" + name
                    + "' signs with the server's configured webhook secret (HOURGLASS_WEBHOOK_SECRETS, or the "
                    + "data directory's webhook-secret file); rotate it there").exception();
        }
        Tenant updated = directory.update(name, t -> {
            List<String> secrets = t.webhookSecrets();
            if (rotate) {
                // The new secret signs first; the previous newest stays valid until it is retired.
                secrets = List.of(SigningSecret.generate().encoded(), secrets.getFirst());
            }
            if (retire) {
                secrets = List.of(secrets.getFirst());
            }
            return t.withWeight(weight).withQuotas(quotas).withTargets(targets).withWebhookSecrets(secrets)
                    .withConnections(connections);
        }).orElseThrow(() -> unknownTenant(name));
        return new Reply(200, tenantJson(updated, directory.keys(name)), Map.of());
    }

    private Reply issueKey(String name) {
        ApiKeys.Issued key = directory.issueKey(name).orElseThrow(() -> unknownTenant(name));
        ObjectNode out = keyJson(key.stored());
        out.put("apiKey", key.text());
        return new Reply(201, out, Map.of());
    }

    private Reply revokeKey(String name, String keyId) {
        ApiKey key = directory.revokeKey(name, keyId).orElseThrow(() -> ApiProblem.of(404, "key-not-found",
                "Key not found", "tenant '" + abbreviate(name) + "' has no key " + abbreviate(keyId)).exception());
        return new Reply(200, keyJson(key), Map.of());
    }

    // ---- JSON ----

    private ObjectNode tenantJson(Tenant t, List<ApiKey> keys) {
        ObjectNode node = json.createObjectNode();
        node.put("name", t.name());
        node.put("weight", t.weight());
        Quotas q = t.quotas();
        ObjectNode quotas = node.putObject("quotas");
        quotas.put("maxPendingJobs", q.maxPendingJobs());
        quotas.put("schedulesPerSecond", q.schedulesPerSecond());
        quotas.put("scheduleBurst", q.scheduleBurst());
        quotas.put("maxPayloadBytes", q.maxPayloadBytes());
        quotas.put("maxDelaySeconds", q.maxDelay().toSeconds());
        quotas.put("maxInFlight", q.maxInFlight());
        ArrayNode secrets = node.putArray("webhookSecrets");
        t.webhookSecrets().forEach(secrets::add);
        TargetSettings s = t.targets();
        ObjectNode targets = node.putObject("targets");
        targets.put("raiseAt", s.raiseAt());
        targets.put("clearAt", s.clearAt());
        targets.put("minAttempts", s.minAttempts());
        targets.put("consecutiveFailures", s.consecutiveFailures());
        targets.put("autoPause", s.autoPause());
        targets.put("autoPauseAfterSeconds", s.autoPauseAfterSeconds());
        if (s.operationsWebhook() == null) {
            targets.putNull("operationsWebhook");
        } else {
            targets.put("operationsWebhook", s.operationsWebhook().toString());
        }
        if (t.connections() == null) {
            node.putNull("connections");
        } else {
            ArrayNode c = node.putArray("connections");
            t.connections().stream().sorted().forEach(c::add);
        }
        if (keys != null) {
            ArrayNode k = node.putArray("keys");
            keys.forEach(key -> k.add(keyJson(key)));
        }
        node.put("createdAt", Rfc3339.format(t.createdAt()));
        node.put("updatedAt", Rfc3339.format(t.updatedAt()));
        return node;
    }

    private ObjectNode keyJson(ApiKey key) {
        ObjectNode node = json.createObjectNode();
        node.put("id", key.id());
        node.put("tenant", key.tenant());
        node.put("createdAt", Rfc3339.format(key.createdAt()));
        if (key.revokedAt() == null) {
            node.putNull("revokedAt");
        } else {
            node.put("revokedAt", Rfc3339.format(key.revokedAt()));
        }
        return node;
    }

    // ---- request parsing ----

    private ObjectNode object(byte[] body) {
        return JsonBodies.object(json, body);
    }

    private static void unknownFields(JsonNode node, Set<String> known, String prefix, List<FieldError> errors) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!known.contains(field)) {
                errors.add(new FieldError(prefix + abbreviate(field), "is not a known field; known: "
                        + known.stream().sorted().toList()));
            }
        }
    }

    private static int weight(JsonNode node, int fallback, List<FieldError> errors) {
        if (node == null) {
            return fallback;
        }
        Long weight = JsonNumbers.integerIn(node, 1, Tenant.MAX_WEIGHT);
        if (weight == null) {
            errors.add(new FieldError("weight", "must be an integer between 1 and " + Tenant.MAX_WEIGHT + ", was "
                    + describe(node)));
            return fallback;
        }
        return weight.intValue();
    }

    /** The quotas in {@code node} over {@code base}: fields not given keep their value in {@code base}. */
    private static Quotas quotas(JsonNode node, Quotas base, List<FieldError> errors) {
        if (node == null) {
            return base;
        }
        if (!node.isObject()) {
            errors.add(new FieldError("quotas", "must be an object"));
            return base;
        }
        unknownFields(node, QUOTA_FIELDS, "quotas.", errors);
        long maxPending = number(node, "maxPendingJobs", base.maxPendingJobs(), Long.MAX_VALUE, errors);
        long rate = number(node, "schedulesPerSecond", base.schedulesPerSecond(), 1_000_000_000L, errors);
        long burst = number(node, "scheduleBurst", base.scheduleBurst(), 1_000_000_000L, errors);
        long payload = number(node, "maxPayloadBytes", base.maxPayloadBytes(), Integer.MAX_VALUE, errors);
        long delay = number(node, "maxDelaySeconds", base.maxDelay().toSeconds(), 100L * 365 * 86_400, errors);
        long inFlight = number(node, "maxInFlight", base.maxInFlight(), 1_000_000, errors);
        return new Quotas(maxPending, rate, burst, (int) payload, Duration.ofSeconds(delay), (int) inFlight);
    }

    private static long number(JsonNode quotas, String field, long fallback, long max, List<FieldError> errors) {
        JsonNode node = quotas.get(field);
        if (node == null) {
            return fallback;
        }
        long min = field.equals("maxPayloadBytes") ? 0 : 1;
        Long value = JsonNumbers.integerIn(node, min, max);
        if (value == null) {
            errors.add(new FieldError("quotas." + field, "must be an integer between " + min + " and " + max
                    + ", was " + describe(node)));
            return fallback;
        }
        return value;
    }

    /**
     * {@code connections}: the names of the queue connections the tenant's jobs may deliver to, an array of
     * connection names, or null for every one; {@code base} when the field is absent. A name the server does not
     * have is accepted (another node, or a later start, may have it); a job naming it is refused all the same.
     */
    private static Set<String> connections(ObjectNode root, Set<String> base, List<FieldError> errors) {
        if (!root.has("connections")) {
            return base;
        }
        JsonNode node = root.get("connections");
        if (node.isNull()) {
            return null;
        }
        if (!node.isArray() || node.size() > MAX_CONNECTIONS) {
            errors.add(new FieldError("connections", "must be an array of at most " + MAX_CONNECTIONS
                    + " connection names, or null for every connection"));
            return base;
        }
        Set<String> names = new java.util.TreeSet<>();
        for (JsonNode name : node) {
            if (!name.isTextual() || !QueueConnection.isValidName(name.textValue())) {
                errors.add(new FieldError("connections", "must hold connection names (1-64 letters, digits, '-' "
                        + "or '_'), was " + abbreviate(name.toString())));
                return base;
            }
            names.add(name.textValue());
        }
        return names;
    }

    /**
     * The target settings in {@code node} over {@code base}: fields not given keep their value in {@code base}
     * ({@code "operationsWebhook": null} removes the webhook). Each field is checked on its own, then the fields that
     * passed are checked together ({@link TargetSettings#problems}: clearAt below raiseAt), every error named
     * {@code targets.<field>}.
     */
    private TargetSettings targets(JsonNode node, TargetSettings base, List<FieldError> errors) {
        if (node == null) {
            return base;
        }
        if (!node.isObject()) {
            errors.add(new FieldError("targets", "must be an object"));
            return base;
        }
        int before = errors.size();
        double raiseAt = fraction(node, "raiseAt", base.raiseAt(), errors);
        double clearAt = fraction(node, "clearAt", base.clearAt(), errors);
        long minAttempts = targetInteger(node, "minAttempts", base.minAttempts(), 1, Long.MAX_VALUE, errors);
        long failures = targetInteger(node, "consecutiveFailures", base.consecutiveFailures(), 1, Integer.MAX_VALUE,
                errors);
        boolean autoPause = base.autoPause();
        JsonNode pause = node.get("autoPause");
        if (pause != null && !pause.isBoolean()) {
            errors.add(new FieldError("targets.autoPause", "must be true or false"));
        } else if (pause != null) {
            autoPause = pause.booleanValue();
        }
        long after = targetInteger(node, "autoPauseAfterSeconds", base.autoPauseAfterSeconds(),
                TargetSettings.MIN_AUTO_PAUSE_AFTER_SECONDS, TargetSettings.MAX_AUTO_PAUSE_AFTER_SECONDS, errors);
        URI webhook = base.operationsWebhook();
        JsonNode url = node.get("operationsWebhook");
        if (url != null && url.isNull()) {
            webhook = null;
        } else if (url != null && !url.isTextual()) {
            errors.add(new FieldError("targets.operationsWebhook", "must be a URL (a string) or null, was "
                    + describe(url)));
        } else if (url != null) {
            OutboundUrls.Checked checked = OutboundUrls.check(url.textValue(), addressGuard);
            if (checked.url() == null) {
                errors.add(new FieldError("targets.operationsWebhook", checked.refusal()));
            } else {
                webhook = checked.url();
            }
        }
        // A field that failed on its own is at its fallback (valid) value now: not named twice.
        Set<String> failed = errors.subList(before, errors.size()).stream().map(FieldError::field)
                .collect(Collectors.toSet());
        TargetSettings.problems(raiseAt, clearAt, minAttempts, (int) failures, after, webhook).stream()
                .filter(p -> !failed.contains("targets." + p.field()))
                .forEach(p -> errors.add(new FieldError("targets." + p.field(), p.rule())));
        unknownFields(node, TARGET_FIELDS, "targets.", errors);
        return errors.size() > before ? base
                : new TargetSettings(raiseAt, clearAt, minAttempts, (int) failures, autoPause, after, webhook);
    }

    /** A rate of {@code targets}: a number from 0 to 1 ({@link TargetSettings} narrows it further). */
    private static double fraction(JsonNode targets, String field, double fallback, List<FieldError> errors) {
        JsonNode node = targets.get(field);
        if (node == null) {
            return fallback;
        }
        Double value = JsonNumbers.fractionIn0To1(node);
        if (value == null) {
            errors.add(new FieldError("targets." + field, "must be a number between 0 and 1, was "
                    + describe(node)));
            return fallback;
        }
        return value;
    }

    private static long targetInteger(JsonNode targets, String field, long fallback, long min, long max,
            List<FieldError> errors) {
        JsonNode node = targets.get(field);
        if (node == null) {
            return fallback;
        }
        Long value = JsonNumbers.integerIn(node, min, max);
        if (value == null) {
            errors.add(new FieldError("targets." + field, "must be an integer between " + min + " and " + max
                    + ", was " + describe(node)));
            return fallback;
        }
        return value;
    }

    private static boolean flag(JsonNode root, String field, List<FieldError> errors) {
        JsonNode node = root.get(field);
        if (node == null) {
            return false;
        }
        if (!node.isBoolean()) {
            errors.add(new FieldError(field, "must be true or false"));
            return false;
        }
        return node.asBoolean();
    }

    private static void throwIfAny(List<FieldError> errors) {
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors, false).exception();
        }
    }

    private static ApiProblem.ApiException unknownTenant(String name) {
        return ApiProblem.of(404, "tenant-not-found", "Tenant not found", "no tenant named '" + abbreviate(name)
                + "'").exception();
    }

    private static String describe(JsonNode node) {
        return node.isNumber() ? JsonNumbers.describe(node) : node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static String abbreviate(String text) {
        String clean = text.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= 64 ? clean : clean.substring(0, 61) + "...";
    }
}
