package dev.hourglass.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.ScheduledRun;
import dev.hourglass.core.store.DeadLetterFilter;
import dev.hourglass.core.time.Instants;
import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.webhook.WebhookHandler;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.queues.QueueTarget;
import dev.hourglass.queues.QueueTargets;
import dev.hourglass.queues.QueueType;
import dev.hourglass.tenancy.Tenant;
import dev.hourglass.webhook.WebhookTarget;
import dev.hourglass.webhook.WebhookUrls;
import dev.hourglass.webhook.address.AddressRefusal;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Reads and validates what clients send: the body of {@code POST /v1/jobs}, of a reschedule and of a bulk retry,
 * the {@code Idempotency-Key} header, and the list query. One method per field, each naming the field and the rule it
 * checks; all broken rules of a request are reported together. Nothing here touches the engine: a request that
 * passes is handed over whole, one that fails is answered with a problem and never stored.
 *
 * <p>Unknown fields are refused rather than ignored: for a scheduler a silently ignored typo ({@code delaySecond})
 * means a job that fires at the wrong time.
 */
public final class ScheduleRequestParser {
    static final Set<String> SCHEDULE_FIELDS =
            Set.of("delaySeconds", "runAt", "target", "payload", "maxAttempts", "timeoutSeconds", "backoff");
    static final Set<String> RESCHEDULE_FIELDS = Set.of("delaySeconds", "runAt");
    static final Set<String> TARGET_FIELDS = Set.of("type", "url", "headers");
    static final Set<String> BACKOFF_FIELDS = Set.of("initialSeconds", "maxSeconds");
    static final Set<String> ATTEMPT_PARAMETERS = Set.of("limit", "cursor");
    static final Set<String> LIST_PARAMETERS =
            Set.of("state", "limit", "cursor", "include", "target", "outcome", "since");
    static final Set<String> RETRY_FIELDS = Set.of("target", "outcome", "since");
    /** The longest {@code target} filter: an origin ({@code scheme://host:port}) is far shorter. */
    static final int MAX_TARGET_FILTER_LENGTH = 2_048;
    private static final String OUTCOMES = Arrays.stream(DeliveryAttempt.Result.values())
            .map(DeliveryAttempt.Result::label).collect(Collectors.joining(", "));

    static final int MIN_ATTEMPTS = 1;
    static final int MAX_ATTEMPTS = 1_000;
    static final int MIN_TIMEOUT_SECONDS = 1;
    static final int MAX_TIMEOUT_SECONDS = 3_600;
    static final long MAX_BACKOFF_SECONDS = 86_400;
    static final int MAX_TARGET_HEADERS = 32;
    static final int MAX_HEADER_VALUE_LENGTH = 4_096;
    static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1_000;

    private static final String RUN_AT_RULE = "must be an RFC 3339 timestamp with a four-digit year (e.g. "
            + "2026-11-26T17:00:00.000Z) or epoch milliseconds (an integer >= 0)";
    private static final String RUN_AT_RANGE = "must be between " + Rfc3339.format(Instants.EARLIEST) + " and "
            + Rfc3339.format(Instants.LATEST);

    private final ObjectMapper json;
    private final InstantSource wallClock;
    private final Duration maxDelay;
    private final int maxPayloadBytes;
    private final GuardedDnsResolver addressGuard;
    /** The queue connections a target may name; empty when the server has none. */
    private final Map<String, QueueConnection> connections;
    /** Which of them the caller may use: {@link QueueTargets.Grant#ALL} until {@link #usableBy} a tenant. */
    private final QueueTargets.Grant grant;

    /**
     * A checked target: the handler that delivers it ({@code webhook}, or a queue type such as {@code kafka}) and
     * its stored JSON.
     */
    public record Target(String handler, String json) {}

    /** A valid schedule request: when, and the job (handler, target, payload, options, key, request hash). */
    public record Schedule(When when, JobRequest job) {}

    /**
     * A valid list query. {@code state} and {@code after} may be null; {@code payloads}: the page carries the jobs'
     * payloads ({@code include=payload}); {@code deadLetters}: the filters on the last delivery and the finish time
     * ({@code target}, {@code outcome}, {@code since}), {@link DeadLetterFilter#ANY} when none is given.
     */
    public record ListQuery(JobState state, int limit, JobId after, boolean payloads, DeadLetterFilter deadLetters) {}

    /** A page of a job's delivery history: the attempts numbered above {@code afterAttempt}, at most {@code limit}. */
    public record AttemptsQuery(int afterAttempt, int limit) {}

    /**
     * @param json the mapper that reads bodies (see {@link JobJson#newMapper()})
     * @param wallClock the engine's wall clock, to refuse a {@code runAt} too far in the future
     * @param maxDelay the furthest in the future a job may be due (the engine's)
     * @param maxPayloadBytes the largest serialized payload accepted (the engine's)
     * @param addressGuard refuses a {@code target.url} whose host is (or resolves to) a blocked address
     */
    public ScheduleRequestParser(ObjectMapper json, InstantSource wallClock, Duration maxDelay, int maxPayloadBytes,
            GuardedDnsResolver addressGuard) {
        this(json, wallClock, maxDelay, maxPayloadBytes, addressGuard, Map.of(), QueueTargets.Grant.ALL);
    }

    private ScheduleRequestParser(ObjectMapper json, InstantSource wallClock, Duration maxDelay, int maxPayloadBytes,
            GuardedDnsResolver addressGuard, Map<String, QueueConnection> connections, QueueTargets.Grant grant) {
        this.json = Objects.requireNonNull(json, "json");
        this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
        this.maxDelay = Objects.requireNonNull(maxDelay, "maxDelay");
        this.maxPayloadBytes = maxPayloadBytes;
        this.addressGuard = Objects.requireNonNull(addressGuard, "addressGuard");
        this.connections = Map.copyOf(connections);
        this.grant = Objects.requireNonNull(grant, "grant");
    }

    /** This parser, taking queue targets on {@code connections} too (docs/queues.md). */
    public ScheduleRequestParser withConnections(Map<String, QueueConnection> connections) {
        return new ScheduleRequestParser(json, wallClock, maxDelay, maxPayloadBytes, addressGuard, connections, grant);
    }

    /** This parser for a request of {@code tenant}: a queue target may name only a connection it may use. */
    public ScheduleRequestParser usableBy(Tenant tenant) {
        return new ScheduleRequestParser(json, wallClock, maxDelay, maxPayloadBytes, addressGuard, connections,
                new QueueTargets.Grant("tenant '" + tenant.name() + "'", tenant::mayUse));
    }

    /** Parses the body of {@code POST /v1/jobs} and its {@code Idempotency-Key} header (null when absent). */
    public Schedule schedule(byte[] body, String idempotencyKeyHeader) {
        ObjectNode root = object(body);
        Errors errors = new Errors();
        unknownFields(root, SCHEDULE_FIELDS, "", errors);
        When when = when(root, errors);
        byte[] payload = payload(root.get("payload"), errors);
        Target target = target(root.get("target"), payload == null ? 0 : payload.length, errors);
        Integer maxAttempts = maxAttempts(root.get("maxAttempts"), errors);
        Duration timeout = timeoutSeconds(root.get("timeoutSeconds"), errors);
        Backoff backoff = backoff(root.get("backoff"), errors);
        String key = idempotencyKey(idempotencyKeyHeader, errors);
        errors.throwIfAny();
        JobRequest job = new JobRequest(target.handler(), payload, target.json(), maxAttempts, backoff, timeout,
                key, null, key == null ? null : requestHash(root), null); // only a keyed request is compared
        return new Schedule(when, job);
    }

    /** Parses the body of {@code POST /v1/jobs/{id}/reschedule}. */
    public When reschedule(byte[] body) {
        ObjectNode root = object(body);
        Errors errors = new Errors();
        unknownFields(root, RESCHEDULE_FIELDS, "", errors);
        When when = when(root, errors);
        errors.throwIfAny();
        return when;
    }

    /**
     * Parses the query of {@code GET /v1/jobs}: {@code state}, {@code limit}, {@code cursor}, {@code include}, and the
     * dead-letter filters {@code target}, {@code outcome}, {@code since}; all optional.
     */
    public ListQuery listQuery(String rawQuery) {
        Map<String, String> params = queryParameters(rawQuery);
        Errors errors = new Errors();
        for (String name : params.keySet()) {
            if (!LIST_PARAMETERS.contains(name)) {
                errors.add(name, "is not a known parameter; known: " + sorted(LIST_PARAMETERS));
            }
        }
        JobState state = stateParameter(given(params, "state"), errors);
        int limit = limitParameter(given(params, "limit"), errors);
        JobId after = cursorParameter(given(params, "cursor"), errors);
        boolean payloads = includeParameter(given(params, "include"), errors);
        DeadLetterFilter deadLetters = new DeadLetterFilter(targetFilter(given(params, "target"), errors),
                outcomeFilter(given(params, "outcome"), errors), sinceFilter(given(params, "since"), errors));
        errors.throwIfAny();
        return new ListQuery(state, limit, after, payloads, deadLetters);
    }

    /**
     * Parses the body of {@code POST /v1/jobs/retry}: which FAILED jobs to retry, by the same filters as the list
     * ({@code target}, {@code outcome}, {@code since}; all optional, each a string).
     */
    public DeadLetterFilter retryFilter(byte[] body) {
        ObjectNode root = object(body);
        Errors errors = new Errors();
        unknownFields(root, RETRY_FIELDS, "", errors);
        String target = targetFilter(stringField(root, "target", errors), errors);
        DeliveryAttempt.Result outcome = outcomeFilter(stringField(root, "outcome", errors), errors);
        Instant since = sinceFilter(stringField(root, "since", errors), errors);
        errors.throwIfAny();
        return new DeadLetterFilter(target, outcome, since);
    }

    /** A filter's string field; null when absent or JSON null, or not a string (then reported). */
    private static String stringField(ObjectNode root, String field, Errors errors) {
        JsonNode node = present(root.get(field));
        if (node == null) {
            return null;
        }
        if (!node.isTextual()) {
            errors.add(field, "must be a string, was " + kind(node));
            return null;
        }
        return node.textValue();
    }

    /** The query of {@code GET /v1/jobs/{id}/attempts}: {@code limit} and {@code cursor} (an attempt number). */
    public AttemptsQuery attemptsQuery(String rawQuery) {
        Map<String, String> params = queryParameters(rawQuery);
        Errors errors = new Errors();
        for (String name : params.keySet()) {
            if (!ATTEMPT_PARAMETERS.contains(name)) {
                errors.add(name, "is not a known parameter; known: " + sorted(ATTEMPT_PARAMETERS));
            }
        }
        int limit = limitParameter(given(params, "limit"), errors);
        int after = attemptCursorParameter(given(params, "cursor"), errors);
        errors.throwIfAny();
        return new AttemptsQuery(after, limit);
    }

    /** {@code cursor} of the attempts: optional, the {@code nextCursor} of the previous page (an attempt number). */
    private static int attemptCursorParameter(String value, Errors errors) {
        if (value == null) {
            return 0;
        }
        try {
            int after = Integer.parseInt(value);
            if (after >= 0) {
                return after;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        errors.add("cursor", "must be the nextCursor of the previous page (an attempt number), was \""
                + abbreviate(value) + "\"");
        return 0;
    }

    // ---- the body as a whole ----

    /** The body must be one JSON object (duplicate keys and trailing content are malformed). */
    ObjectNode object(byte[] body) {
        return JsonBodies.object(json, body);
    }

    static void unknownFields(ObjectNode node, Set<String> allowed, String prefix, Errors errors) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                errors.add(prefix + name, "is not a known field; known: " + sorted(allowed));
            }
        }
    }

    /**
     * SHA-256 of the body in a canonical form (keys sorted at every level, no whitespace), so "the same request"
     * for idempotency means the same JSON whatever its formatting or key order.
     */
    byte[] requestHash(JsonNode root) {
        try {
            byte[] canonical = json.writeValueAsBytes(canonical(root));
            return MessageDigest.getInstance("SHA-256").digest(canonical);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed tree always serializes", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private JsonNode canonical(JsonNode node) {
        if (node.isObject()) {
            TreeMap<String, JsonNode> sortedFields = new TreeMap<>();
            node.properties().forEach(e -> sortedFields.put(e.getKey(), canonical(e.getValue())));
            ObjectNode copy = json.createObjectNode();
            sortedFields.forEach(copy::set);
            return copy;
        }
        if (node.isArray()) {
            var copy = json.createArrayNode();
            node.forEach(element -> copy.add(canonical(element)));
            return copy;
        }
        return node;
    }

    // ---- when: delaySeconds | runAt ----

    /** Exactly one of {@code delaySeconds} and {@code runAt}. */
    private When when(ObjectNode root, Errors errors) {
        JsonNode delay = present(root.get("delaySeconds"));
        JsonNode runAt = present(root.get("runAt"));
        if (delay != null && runAt != null) {
            errors.add("delaySeconds", "give exactly one of delaySeconds and runAt, not both");
            return null;
        }
        if (delay == null && runAt == null) {
            errors.add("delaySeconds", "one of delaySeconds and runAt is required");
            return null;
        }
        if (delay != null) {
            Duration d = delaySeconds(delay, errors);
            return d == null ? null : When.after(d);
        }
        Instant at = runAt(runAt, errors);
        return at == null ? null : When.at(at);
    }

    /** {@code delaySeconds}: an integer, 0 up to the engine's maximum delay. */
    private Duration delaySeconds(JsonNode node, Errors errors) {
        long max = maxDelay.toSeconds();
        String rule = "must be an integer between 0 and " + max + " (" + maxDelay.toDays() + " days)";
        if (!node.isIntegralNumber()) {
            errors.add("delaySeconds", rule + ", was " + kind(node));
            return null;
        }
        Long seconds = JsonNumbers.integerIn(node, 0, max);
        if (seconds == null) {
            errors.add("delaySeconds", rule + ", was " + JsonNumbers.describe(node));
            return null;
        }
        return Duration.ofSeconds(seconds);
    }

    /** {@code runAt}: RFC 3339 or epoch milliseconds, at most the engine's maximum delay from now. */
    private Instant runAt(JsonNode node, Errors errors) {
        Instant at;
        if (node.isTextual()) {
            try {
                at = Rfc3339.parseCeilMillis(node.textValue());
            } catch (DateTimeParseException e) {
                errors.add("runAt", RUN_AT_RULE + ", was \"" + abbreviate(node.textValue()) + "\"");
                return null;
            }
            if (at.isBefore(Instants.EARLIEST)) { // an offset may move year 0000 out of range
                errors.add("runAt", RUN_AT_RANGE + ", was \"" + abbreviate(node.textValue()) + "\"");
                return null;
            }
        } else if (node.isIntegralNumber() && node.canConvertToLong() && node.longValue() >= 0) {
            // Beyond the range is also beyond the furthest due time: clamped so that the check below refuses it.
            at = Instant.ofEpochMilli(Math.min(node.longValue(), Instants.LATEST.toEpochMilli() + 1));
        } else {
            errors.add("runAt", RUN_AT_RULE + ", was " + (node.isNumber() ? JsonNumbers.describe(node) : kind(node)));
            return null;
        }
        // Compared as a duration, so that no instant is computed beyond what Instant holds.
        Instant now = wallClock.instant();
        if (at.isAfter(Instants.LATEST) || Duration.between(now, at).compareTo(maxDelay) > 0) {
            Instant latest = Duration.between(now, Instants.LATEST).compareTo(maxDelay) > 0 ? now.plus(maxDelay)
                    : Instants.LATEST;
            errors.add("runAt", "must be at most " + maxDelay.toDays() + " days in the future (before "
                    + Rfc3339.format(latest) + ")");
            return null;
        }
        return at;
    }

    // ---- target ----

    /**
     * {@code target}: required, an object whose {@code type} says how the job is delivered: {@code webhook} (a url
     * and optional headers) or a queue type on a named connection ({@link QueueTargets#read}).
     *
     * @param payloadBytes the size of the job's payload, which a queue type may limit
     */
    Target target(JsonNode node, int payloadBytes, Errors errors) {
        node = present(node);
        if (node == null) {
            errors.add("target", "is required: {\"type\": \"webhook\", \"url\": \"https://...\"}");
            return null;
        }
        if (!(node instanceof ObjectNode target)) {
            errors.add("target", "must be an object, was " + kind(node));
            return null;
        }
        String type = targetType(target.get("type"), errors);
        if (type == null) {
            return null;
        }
        if (QueueTargets.isQueueType(type)) {
            QueueTarget queue = QueueTargets.read(target, connections, grant, payloadBytes, errors::add);
            return queue == null ? null : new Target(type, queue.toJson());
        }
        unknownFields(target, TARGET_FIELDS, "target.", errors);
        URI url = targetUrl(target.get("url"), errors);
        Map<String, String> headers = targetHeaders(target.get("headers"), errors);
        return url != null && headers != null
                ? new Target(WebhookHandler.NAME, new WebhookTarget(url, headers).toJson()) : null;
    }

    /** {@code target.type}: required; {@code webhook} or a queue type. */
    private static String targetType(JsonNode node, Errors errors) {
        node = present(node);
        String supported = WebhookTarget.TYPE + ", " + QueueType.allIds();
        if (node == null) {
            errors.add("target.type", "is required; supported: " + supported);
            return null;
        }
        if (!node.isTextual() || !(WebhookTarget.TYPE.equals(node.textValue())
                || QueueTargets.isQueueType(node.textValue()))) {
            errors.add("target.type", "must be one of " + supported + ", was "
                    + (node.isTextual() ? "\"" + abbreviate(node.textValue()) + "\"" : kind(node)));
            return null;
        }
        return node.textValue();
    }

    /**
     * {@code target.url}: required, a URL that can be delivered at all ({@link WebhookUrls}) with a host that is not,
     * and does not resolve to, a blocked address (loopback, private, link-local, ...) unless the operator
     * allowlisted it.
     */
    private URI targetUrl(JsonNode node, Errors errors) {
        node = present(node);
        if (node == null) {
            errors.add("target.url", "is required");
            return null;
        }
        if (!node.isTextual()) {
            errors.add("target.url", "must be a string, was " + kind(node));
            return null;
        }
        String text = node.textValue();
        WebhookUrls.Checked checked = WebhookUrls.check(text);
        if (!checked.ok()) {
            errors.add("target.url", checked.refusal() + ", was \"" + abbreviate(text) + "\"");
            return null;
        }
        URI uri = checked.url();
        Optional<AddressRefusal> refused = addressGuard.check(uri.getHost());
        if (refused.isPresent()) {
            errors.add("target.url", "must not reach a " + refused.get().rule() + " address: "
                    + refused.get().describe() + "; webhooks to loopback, private, link-local, CGNAT, multicast and "
                    + "cloud metadata addresses are refused unless the operator allowlists them "
                    + "(--webhook-allowlist or HOURGLASS_WEBHOOK_ALLOWLIST)");
            return null;
        }
        return uri;
    }

    /**
     * {@code target.headers}: optional, an object of string values; names are HTTP tokens and may not be
     * Hourglass's own ({@code Hourglass-*}, {@code Idempotency-Key}) nor transport headers ({@code Host}, ...).
     */
    private static Map<String, String> targetHeaders(JsonNode node, Errors errors) {
        node = present(node);
        Map<String, String> headers = new LinkedHashMap<>();
        if (node == null) {
            return headers;
        }
        if (!node.isObject()) {
            errors.add("target.headers", "must be an object of header names to string values, was " + kind(node));
            return null;
        }
        if (node.size() > MAX_TARGET_HEADERS) {
            errors.add("target.headers", "must have at most " + MAX_TARGET_HEADERS + " headers");
            return null;
        }
        int before = errors.size();
        Set<String> seen = new HashSet<>();
        node.properties().forEach(e -> {
            String name = e.getKey();
            JsonNode value = e.getValue();
            if (!isToken(name)) {
                errors.add("target.headers", "\"" + abbreviate(name) + "\" is not a valid header name");
            } else if (WebhookHandler.isReservedHeader(name)) {
                errors.add("target.headers", "must not set " + name + ": Hourglass or the HTTP client sets it");
            } else if (!seen.add(name.toLowerCase(Locale.ROOT))) {
                errors.add("target.headers", "sets " + name + " twice (header names are case-insensitive)");
            } else if (!value.isTextual()) {
                errors.add("target.headers", "the value of " + name + " must be a string, was " + kind(value));
            } else if (value.textValue().length() > MAX_HEADER_VALUE_LENGTH
                    || value.textValue().chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f || c > 0xff)) {
                errors.add("target.headers", "the value of " + name + " must be at most " + MAX_HEADER_VALUE_LENGTH
                        + " characters without control characters");
            } else {
                headers.put(name, value.textValue());
            }
        });
        return errors.size() == before ? headers : null;
    }

    // ---- payload and options ----

    /** {@code payload}: any JSON (absent means null), at most the engine's payload size once serialized. */
    byte[] payload(JsonNode node, Errors errors) {
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(node == null ? json.nullNode() : node);
        } catch (JsonProcessingException e) {
            errors.add("payload", "could not be serialized: " + e.getOriginalMessage());
            return null;
        }
        if (bytes.length > maxPayloadBytes) {
            errors.addTooLarge("payload", "must be at most " + maxPayloadBytes + " bytes serialized, was "
                    + bytes.length);
            return null;
        }
        return bytes;
    }

    /** {@code maxAttempts}: optional, an integer 1..1000. */
    static Integer maxAttempts(JsonNode node, Errors errors) {
        Long value = integerInRange(node, "maxAttempts", MIN_ATTEMPTS, MAX_ATTEMPTS, errors);
        return value == null ? null : value.intValue();
    }

    /** {@code timeoutSeconds}: optional, an integer 1..3600. */
    static Duration timeoutSeconds(JsonNode node, Errors errors) {
        Long value = integerInRange(node, "timeoutSeconds", MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, errors);
        return value == null ? null : Duration.ofSeconds(value);
    }

    /** {@code backoff}: optional, {@code {"initialSeconds": n, "maxSeconds": n}}: 0.001 s to a day, max >= initial. */
    private static Backoff backoff(JsonNode node, Errors errors) {
        node = present(node);
        if (node == null) {
            return null;
        }
        if (!(node instanceof ObjectNode backoff)) {
            errors.add("backoff", "must be an object {\"initialSeconds\": n, \"maxSeconds\": n}, was " + kind(node));
            return null;
        }
        unknownFields(backoff, BACKOFF_FIELDS, "backoff.", errors);
        Duration initial = backoffSeconds(backoff.get("initialSeconds"), "backoff.initialSeconds", errors);
        Duration max = backoffSeconds(backoff.get("maxSeconds"), "backoff.maxSeconds", errors);
        if (initial == null || max == null) {
            return null;
        }
        if (max.compareTo(initial) < 0) {
            errors.add("backoff.maxSeconds", "must be >= backoff.initialSeconds");
            return null;
        }
        return new Backoff(initial, max);
    }

    /** A backoff bound: a number of seconds, a millisecond to a day; rounded up to whole milliseconds. */
    private static Duration backoffSeconds(JsonNode node, String field, Errors errors) {
        node = present(node);
        String rule = "must be a number of seconds >= 0.001 and <= " + MAX_BACKOFF_SECONDS;
        if (node == null) {
            errors.add(field, "is required; " + rule);
            return null;
        }
        if (!node.isNumber()) {
            errors.add(field, rule + ", was " + kind(node));
            return null;
        }
        Long millis = JsonNumbers.secondsToCeilMillis(node, MAX_BACKOFF_SECONDS);
        if (millis == null) {
            errors.add(field, rule + ", was " + JsonNumbers.describe(node));
            return null;
        }
        return Duration.ofMillis(millis);
    }

    /**
     * The {@code Idempotency-Key} header: optional, 1..255 printable ASCII characters. A header's bytes arrive as
     * ISO-8859-1, so anything beyond ASCII would be a guess at the client's encoding; a control character (NUL
     * above all) is not text some stores can keep. One rule, whatever the store.
     */
    static String idempotencyKey(String header, Errors errors) {
        if (header == null) {
            return null;
        }
        if (header.isEmpty() || header.length() > MAX_IDEMPOTENCY_KEY_LENGTH) {
            errors.add("Idempotency-Key", "must be 1.." + MAX_IDEMPOTENCY_KEY_LENGTH + " characters, was "
                    + header.length());
            return null;
        }
        if (header.startsWith(ScheduledRun.KEY_PREFIX)) {
            errors.add("Idempotency-Key", "must not start with \"" + ScheduledRun.KEY_PREFIX + "\": the keys of "
                    + "recurring schedules' runs");
            return null;
        }
        for (int i = 0; i < header.length(); i++) {
            char c = header.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                errors.add("Idempotency-Key", "must be printable ASCII (0x20-0x7E); found "
                        + String.format(Locale.ROOT, "0x%02X", (int) c) + " at index " + i);
                return null;
            }
        }
        return header;
    }

    // ---- list query ----

    /** {@code state}: optional, one of the job states (any case). */
    private static JobState stateParameter(String value, Errors errors) {
        if (value == null) {
            return null;
        }
        try {
            return JobState.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            errors.add("state", "must be one of " + Arrays.toString(JobState.values()) + ", was \""
                    + abbreviate(value) + "\"");
            return null;
        }
    }

    /**
     * {@code target}: optional, matched exactly against where a job's last attempt went (a webhook's origin,
     * {@code https://host:443}). Control characters are refused: no target holds one, and a store cannot compare a
     * NUL.
     */
    private static String targetFilter(String value, Errors errors) {
        if (value == null) {
            return null;
        }
        if (value.length() > MAX_TARGET_FILTER_LENGTH || value.chars().anyMatch(Character::isISOControl)) {
            errors.add("target", "must be a target as a job's last attempt names it (a webhook's origin, e.g. "
                    + "https://example.com:443), at most " + MAX_TARGET_FILTER_LENGTH
                    + " characters and no control characters");
            return null;
        }
        return value;
    }

    /** {@code outcome}: optional, how a job's last attempt ended, one of the outcome labels (any case). */
    private static DeliveryAttempt.Result outcomeFilter(String value, Errors errors) {
        if (value == null) {
            return null;
        }
        for (DeliveryAttempt.Result outcome : DeliveryAttempt.Result.values()) {
            if (outcome.label().equalsIgnoreCase(value)) {
                return outcome;
            }
        }
        errors.add("outcome", "must be one of " + OUTCOMES + ", was \"" + abbreviate(value) + "\"");
        return null;
    }

    /** {@code since}: optional, an RFC 3339 timestamp: only jobs that finished at or after it. */
    private static Instant sinceFilter(String value, Errors errors) {
        if (value == null) {
            return null;
        }
        try {
            return Rfc3339.parseCeilMillis(value);
        } catch (DateTimeParseException | ArithmeticException e) {
            errors.add("since", "must be an RFC 3339 timestamp with a four-digit year (e.g. 2026-11-26T17:00:00Z), "
                    + "was \"" + abbreviate(value) + "\"");
            return null;
        }
    }

    /** {@code limit}: optional, an integer 1..1000, default 100. */
    static int limitParameter(String value, Errors errors) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        errors.add("limit", "must be an integer between 1 and " + MAX_LIMIT + ", was \"" + abbreviate(value) + "\"");
        return DEFAULT_LIMIT;
    }

    /** {@code cursor}: optional, the {@code nextCursor} of the previous page (a job id). */
    private static JobId cursorParameter(String value, Errors errors) {
        if (value == null) {
            return null;
        }
        JobId id = JobId.parseOrNull(value);
        if (id == null) {
            errors.add("cursor", "must be the nextCursor of a previous page (a job id), was \"" + abbreviate(value)
                    + "\"");
        }
        return id;
    }

    /**
     * {@code include}: optional, a comma-separated list of what list pages leave out by default; {@code payload} is
     * the only such part. True when it names the payload.
     */
    private static boolean includeParameter(String value, Errors errors) {
        if (value == null) {
            return false;
        }
        for (String part : value.split(",", -1)) {
            if (!part.trim().equals("payload")) {
                errors.add("include", "must be \"payload\" (the only part list pages leave out), was \""
                        + abbreviate(value) + "\"");
                return false;
            }
        }
        return true;
    }

    /** Decodes {@code a=1&b=2}; a repeated or undecodable parameter is refused. */
    static Map<String, String> queryParameters(String rawQuery) {
        Map<String, String> params = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return params;
        }
        Errors errors = new Errors();
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                if (params.putIfAbsent(name, value) != null) {
                    errors.add(name, "must be given at most once");
                }
            } catch (IllegalArgumentException e) {
                errors.add("query", "is not a valid URL query: " + e.getMessage());
            }
        }
        errors.throwIfAny();
        return params;
    }

    /** An empty query value ({@code ?state=}) means "not given". */
    static String given(Map<String, String> params, String name) {
        String value = params.get(name);
        return value == null || value.isEmpty() ? null : value;
    }

    // ---- helpers ----

    /** An integer field in {@code [min, max]}; null when absent (or JSON null) or broken (then reported). */
    static Long integerInRange(JsonNode node, String field, long min, long max, Errors errors) {
        node = present(node);
        if (node == null) {
            return null;
        }
        String rule = "must be an integer between " + min + " and " + max;
        if (!node.isIntegralNumber()) {
            errors.add(field, rule + ", was " + kind(node));
            return null;
        }
        Long value = JsonNumbers.integerIn(node, min, max);
        if (value == null) {
            errors.add(field, rule + ", was " + JsonNumbers.describe(node));
        }
        return value;
    }

    /** Absent and JSON null are the same: not given. */
    static JsonNode present(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode() ? null : node;
    }

    /** RFC 9110 token characters: what a header name may contain. */
    private static boolean isToken(String name) {
        if (name.isEmpty() || name.length() > 256) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static String kind(JsonNode node) {
        if (node.isTextual()) {
            return "a string";
        }
        if (node.isIntegralNumber()) {
            return "the integer " + JsonNumbers.describe(node);
        }
        if (node.isNumber()) {
            return "the number " + JsonNumbers.describe(node);
        }
        return switch (node.getNodeType()) {
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    static String abbreviate(String text) {
        String clean = text.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= 64 ? clean : clean.substring(0, 61) + "...";
    }

    static String sorted(Set<String> names) {
        return names.stream().sorted().collect(Collectors.joining(", "));
    }

    /** The broken rules of one request, collected so that a client sees all of them at once. */
    static final class Errors {
        private final List<FieldError> list = new ArrayList<>();
        private boolean tooLarge;

        void add(String field, String rule) {
            list.add(new FieldError(field, rule));
        }

        /** A size limit: the answer becomes 413 instead of 400. */
        void addTooLarge(String field, String rule) {
            add(field, rule);
            tooLarge = true;
        }

        int size() {
            return list.size();
        }

        void throwIfAny() {
            if (!list.isEmpty()) {
                throw ApiProblem.invalid(list, tooLarge).exception();
            }
        }
    }
}
