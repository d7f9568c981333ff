package dev.hourglass.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.core.time.Instants;
import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.http.ScheduleRequestParser.Errors;
import dev.hourglass.recurring.DstGap;
import dev.hourglass.recurring.IntervalRecurrence;
import dev.hourglass.recurring.InvalidScheduleException;
import dev.hourglass.recurring.Misfire;
import dev.hourglass.schedules.Overlap;
import dev.hourglass.schedules.ScheduleDefinition;
import dev.hourglass.webhook.WebhookHandler;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads the bodies and queries of {@code /v1/schedules}: every field is checked and every wrong one reported at once
 * (400 naming each), as for jobs; the target, payload, attempts, timeout and Idempotency-Key rules are the jobs' own
 * ({@link ScheduleRequestParser}). The run-time rules (cron, zone, interval, start and end) are the schedules
 * module's ({@link ScheduleDefinition#recurrence()}), reported on the same fields.
 */
final class RecurringRequestParser {
    static final Set<String> FIELDS = Set.of("name", "cron", "every", "timezone", "dstGap", "target", "payload",
            "maxAttempts", "timeoutSeconds", "startAt", "endAt", "jitterSeconds", "overlap", "misfire",
            "catchupWindowSeconds", "paused");
    static final Set<String> LIST_PARAMETERS = Set.of("limit", "cursor");
    static final Set<String> PREVIEW_PARAMETERS = Set.of("n");
    static final long MAX_JITTER_SECONDS = 86_400;
    static final long MAX_CATCHUP_WINDOW_SECONDS = 30L * 86_400;
    static final int MAX_PREVIEW = 100;
    static final int DEFAULT_PREVIEW = 10;
    private static final String TIMESTAMP = "an RFC 3339 timestamp with a four-digit year (e.g. "
            + "\"2030-01-01T09:00:00Z\")";

    /** A create: the definition, whether it starts paused, the key and the digest of the body. */
    record Create(ScheduleDefinition definition, boolean paused, String idempotencyKey, byte[] requestHash) {}

    /** A change: the whole new definition, and a pause or resume if the body asked for one (null: neither). */
    record Change(ScheduleDefinition definition, Boolean paused) {}

    /** A page of the tenant's schedules. */
    record ListQuery(int limit, String after) {}

    private final ScheduleRequestParser jobs;
    private final InstantSource wallClock;

    /** This parser for a request of {@code tenant}: a queue target may name only a connection it may use. */
    RecurringRequestParser usableBy(dev.hourglass.tenancy.Tenant tenant) {
        return new RecurringRequestParser(jobs.usableBy(tenant), wallClock);
    }

    RecurringRequestParser(ScheduleRequestParser jobs, InstantSource wallClock) {
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
    }

    /** The body of {@code POST /v1/schedules} and its {@code Idempotency-Key} header (null when absent). */
    Create create(byte[] body, String idempotencyKeyHeader) {
        ObjectNode root = jobs.object(body);
        Errors errors = new Errors();
        ScheduleRequestParser.unknownFields(root, FIELDS, "", errors);
        String key = ScheduleRequestParser.idempotencyKey(idempotencyKeyHeader, errors);
        ScheduleDefinition definition = definition(root, field -> null, errors);
        Boolean paused = paused(root.get("paused"), errors);
        check(definition, errors);
        errors.throwIfAny();
        return new Create(definition, paused != null && paused, key, key == null ? null : jobs.requestHash(root));
    }

    /**
     * The body of {@code PATCH /v1/schedules/{id}}: the fields given replace the current ones (JSON null clears an
     * optional one); {@code cron} and {@code every} replace each other.
     */
    Change change(byte[] body, ScheduleDefinition current) {
        ObjectNode root = jobs.object(body);
        Errors errors = new Errors();
        ScheduleRequestParser.unknownFields(root, FIELDS, "", errors);
        boolean cronGiven = ScheduleRequestParser.present(root.get("cron")) != null;
        boolean everyGiven = ScheduleRequestParser.present(root.get("every")) != null;
        Function<String, Object> kept = field -> switch (field) {
            case "cron" -> everyGiven ? null : current.cron();
            case "every" -> cronGiven ? null : current.every();
            default -> null;
        };
        ScheduleDefinition given = definition(root, kept, errors);
        ScheduleDefinition merged = new ScheduleDefinition(
                pick(root, "name", given.name(), current.name()),
                root.has("cron") || everyGiven ? given.cron() : current.cron(),
                root.has("every") || cronGiven ? given.every() : current.every(),
                pick(root, "timezone", given.timezone(), current.timezone()),
                pick(root, "dstGap", given.dstGap(), current.dstGap()),
                root.has("target") ? given.handler() : current.handler(),
                pick(root, "target", given.target(), current.target()),
                root.has("payload") ? given.payload() : current.payload(),
                pick(root, "maxAttempts", given.maxAttempts(), current.maxAttempts()),
                pick(root, "timeoutSeconds", given.timeout(), current.timeout()),
                pick(root, "startAt", given.startAt(), current.startAt()),
                pick(root, "endAt", given.endAt(), current.endAt()),
                pick(root, "jitterSeconds", given.jitter(), current.jitter()),
                pick(root, "overlap", given.overlap(), current.overlap()),
                pick(root, "misfire", given.misfire(), current.misfire()),
                pick(root, "catchupWindowSeconds", given.catchupWindow(), current.catchupWindow()),
                root.has("startAt") ? null : current.anchor());
        Boolean paused = paused(root.get("paused"), errors);
        check(merged, errors);
        errors.throwIfAny();
        return new Change(merged, paused);
    }

    ListQuery listQuery(String rawQuery) {
        Map<String, String> params = ScheduleRequestParser.queryParameters(rawQuery);
        Errors errors = new Errors();
        unknownParameters(params, LIST_PARAMETERS, errors);
        int limit = ScheduleRequestParser.limitParameter(ScheduleRequestParser.given(params, "limit"), errors);
        String cursor = ScheduleRequestParser.given(params, "cursor");
        errors.throwIfAny();
        return new ListQuery(limit, cursor);
    }

    /** {@code n}: how many run times a preview shows, 1..100, 10 when absent. */
    int previewCount(String rawQuery) {
        Map<String, String> params = ScheduleRequestParser.queryParameters(rawQuery);
        Errors errors = new Errors();
        unknownParameters(params, PREVIEW_PARAMETERS, errors);
        String value = ScheduleRequestParser.given(params, "n");
        int n = DEFAULT_PREVIEW;
        if (value != null) {
            try {
                n = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > MAX_PREVIEW) {
                errors.add("n", "must be an integer between 1 and " + MAX_PREVIEW + ", was \""
                        + ScheduleRequestParser.abbreviate(value) + "\"");
            }
        }
        errors.throwIfAny();
        return n;
    }

    // ---- fields ----

    /** Every field of a body, each checked on its own; absent ones are null (or {@code kept}'s value). */
    private ScheduleDefinition definition(ObjectNode root, Function<String, Object> kept, Errors errors) {
        String name = text(root.get("name"), "name", ScheduleDefinition.MAX_NAME_LENGTH, errors);
        String cron = text(root.get("cron"), "cron", 200, errors);
        Duration every = every(root.get("every"), errors);
        String timezone = text(root.get("timezone"), "timezone", 100, errors);
        DstGap dstGap = choice(root.get("dstGap"), "dstGap", "a string", DstGap::fromJson, errors);
        JsonNode targetNode = ScheduleRequestParser.present(root.get("target"));
        byte[] payload = root.has("payload") ? jobs.payload(root.get("payload"), errors) : null;
        ScheduleRequestParser.Target target = targetNode == null && !root.has("target") ? null
                : jobs.target(targetNode, payload == null ? 0 : payload.length, errors);
        Integer maxAttempts = ScheduleRequestParser.maxAttempts(root.get("maxAttempts"), errors);
        Duration timeout = ScheduleRequestParser.timeoutSeconds(root.get("timeoutSeconds"), errors);
        Instant startAt = instant(root.get("startAt"), "startAt", errors);
        Instant endAt = instant(root.get("endAt"), "endAt", errors);
        Long jitter = ScheduleRequestParser.integerInRange(root.get("jitterSeconds"), "jitterSeconds", 0,
                MAX_JITTER_SECONDS, errors);
        Overlap overlap = choice(root.get("overlap"), "overlap", "a string", Overlap::fromJson, errors);
        Misfire misfire = choice(root.get("misfire"), "misfire", "a string", Misfire::fromJson, errors);
        Long window = ScheduleRequestParser.integerInRange(root.get("catchupWindowSeconds"), "catchupWindowSeconds",
                0, MAX_CATCHUP_WINDOW_SECONDS, errors);
        return new ScheduleDefinition(name, cron != null ? cron : (String) kept.apply("cron"),
                every != null ? every : (Duration) kept.apply("every"), timezone, dstGap,
                target == null ? WebhookHandler.NAME : target.handler(), target == null ? null : target.json(), payload, maxAttempts, timeout, startAt, endAt,
                jitter == null ? null : Duration.ofSeconds(jitter), overlap, misfire,
                window == null ? null : Duration.ofSeconds(window), null);
    }

    /** The rules across fields (one of cron and every, the zone, the expression, start before end, a next run). */
    private void check(ScheduleDefinition definition, Errors errors) {
        if (errors.size() > 0) {
            return;
        }
        if (definition.target() == null) {
            errors.add("target", "is required: {\"type\": \"webhook\", \"url\": \"https://...\"}");
            return;
        }
        try {
            definition.anchoredAt(wallClock.instant()).recurrence();
        } catch (InvalidScheduleException e) {
            errors.add(e.field(), e.rule());
        }
    }

    private static <T> T pick(ObjectNode root, String field, T given, T current) {
        return root.has(field) ? given : current;
    }

    private static Boolean paused(JsonNode node, Errors errors) {
        node = ScheduleRequestParser.present(node);
        if (node == null) {
            return null;
        }
        if (!node.isBoolean()) {
            errors.add("paused", "must be true or false, was " + ScheduleRequestParser.kind(node));
            return null;
        }
        return node.booleanValue();
    }

    /** A string field's text; null when absent (or JSON null) or not a string (then reported: {@code must}). */
    private static String textual(JsonNode node, String field, String must, Errors errors) {
        node = ScheduleRequestParser.present(node);
        if (node == null) {
            return null;
        }
        if (!node.isTextual()) {
            errors.add(field, "must be " + must + ", was " + ScheduleRequestParser.kind(node));
            return null;
        }
        return node.textValue();
    }

    private static String text(JsonNode node, String field, int maxLength, Errors errors) {
        String value = textual(node, field, "a string", errors);
        if (value == null) {
            return null;
        }
        if (value.isBlank() || value.length() > maxLength) {
            errors.add(field, "must be 1.." + maxLength + " characters, was " + value.length());
            return null;
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                errors.add(field, "must not contain control characters");
                return null;
            }
        }
        return value;
    }

    /** {@code every}: an ISO-8601 duration of at least a second, by {@link IntervalRecurrence}'s rules. */
    private static Duration every(JsonNode node, Errors errors) {
        return choice(node, "every", "an ISO-8601 duration such as \"PT15M\"",
                text -> IntervalRecurrence.parse(text, Instant.EPOCH).every(), errors);
    }

    private static <T> T choice(JsonNode node, String field, String must, Function<String, T> read, Errors errors) {
        String value = textual(node, field, must, errors);
        if (value == null) {
            return null;
        }
        try {
            return read.apply(value);
        } catch (InvalidScheduleException e) {
            errors.add(field, e.rule());
            return null;
        }
    }

    private static Instant instant(JsonNode node, String field, Errors errors) {
        String text = textual(node, field, TIMESTAMP, errors);
        if (text == null) {
            return null;
        }
        try {
            Instant at = Rfc3339.parseCeilMillis(text);
            if (at.isBefore(Instants.EARLIEST) || at.isAfter(Instants.LATEST)) {
                errors.add(field, "must be between " + Rfc3339.format(Instants.EARLIEST) + " and "
                        + Rfc3339.format(Instants.LATEST));
                return null;
            }
            return at;
        } catch (DateTimeParseException e) {
            errors.add(field, "must be " + TIMESTAMP + ", was \"" + ScheduleRequestParser.abbreviate(text) + "\"");
            return null;
        }
    }

    private static void unknownParameters(Map<String, String> params, Set<String> known, Errors errors) {
        for (String name : params.keySet()) {
            if (!known.contains(name)) {
                errors.add(name, "is not a known parameter; known: " + ScheduleRequestParser.sorted(known));
            }
        }
    }
}
