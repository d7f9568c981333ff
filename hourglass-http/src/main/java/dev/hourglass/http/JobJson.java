package dev.hourglass.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.ScheduledRun;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.targets.TargetStatus;
import dev.hourglass.core.time.Rfc3339;
import dev.hourglass.schedules.RunTime;
import dev.hourglass.schedules.Schedule;
import dev.hourglass.schedules.ScheduleDefinition;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every JSON document the API sends, written by hand on Jackson's tree model so the wire format is visible in one
 * place and does not change when a Java class does.
 *
 * <pre>{@code
 * {"id": "0193...", "state": "SCHEDULED", "dueAt": "2026-11-26T17:00:00.000Z",
 *  "createdAt": "...", "updatedAt": "...", "attempts": 0, "maxAttempts": 5,
 *  "target": {"type": "webhook", "url": "https://..."}, "payload": {...}, "lastError": "HTTP 500"}
 * }</pre>
 *
 * Times are RFC 3339 in UTC with exactly three fraction digits. {@code lastError} is present only when there is one.
 * Pages of jobs are streamed by {@link JobPageWriter}, one job at a time.
 */
public final class JobJson {
    private final ObjectMapper json;

    public JobJson(ObjectMapper json) {
        this.json = Objects.requireNonNull(json, "json");
    }

    /**
     * The mapper for request bodies and stored payloads: duplicate keys and trailing content are errors (a body
     * that means two things is refused), and decimals are read as {@code BigDecimal} and kept as written, so a
     * payload's numbers reach the webhook with every digit. A number may be at most
     * {@link JsonBodies#MAX_NUMBER_LENGTH} characters long (see {@link JsonNumbers} for why its exponent is no risk).
     */
    public static ObjectMapper newMapper() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNumberLength(JsonBodies.MAX_NUMBER_LENGTH).build())
                .build();
        return JsonMapper.builder(factory)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
                .build();
    }

    public ObjectNode job(Job job) {
        return job(job, true);
    }

    /** The job; without {@code withPayload}, the {@code payload} field is left out (as in list pages by default). */
    public ObjectNode job(Job job, boolean withPayload) {
        ObjectNode node = json.createObjectNode();
        node.put("id", job.id().toString());
        node.put("state", job.state().name());
        node.put("dueAt", Rfc3339.format(job.dueAt()));
        node.put("createdAt", Rfc3339.format(job.createdAt()));
        node.put("updatedAt", Rfc3339.format(job.updatedAt()));
        node.put("attempts", job.attempts());
        node.put("maxAttempts", job.maxAttempts());
        node.set("target", storedJson(job.target() == null ? null : job.target().getBytes(StandardCharsets.UTF_8)));
        if (withPayload) {
            node.set("payload", storedJson(job.payload()));
        }
        if (job.lastError() != null) {
            node.put("lastError", job.lastError());
        }
        ScheduledRun.scheduleIdOf(job.idempotencyKey()).ifPresent(id -> node.put("scheduleId", id));
        return node;
    }

    /** A recurring schedule: its definition as the API spells it, and its state. */
    public ObjectNode schedule(Schedule schedule) {
        ScheduleDefinition d = schedule.definition();
        ObjectNode node = json.createObjectNode();
        node.put("id", schedule.id());
        node.put("name", d.name());
        if (d.cron() != null) {
            node.put("cron", d.cron());
            node.put("timezone", d.timezone());
            node.put("dstGap", d.dstGap().jsonName());
        } else {
            node.put("every", d.every().toString());
        }
        node.set("target", storedJson(d.target() == null ? null : d.target().getBytes(StandardCharsets.UTF_8)));
        node.set("payload", storedJson(d.payload()));
        if (d.maxAttempts() != null) {
            node.put("maxAttempts", d.maxAttempts());
        }
        if (d.timeout() != null) {
            node.put("timeoutSeconds", d.timeout().toSeconds());
        }
        putTime(node, "startAt", d.startAt());
        putTime(node, "endAt", d.endAt());
        node.put("jitterSeconds", d.jitter().toSeconds());
        node.put("overlap", d.overlap().jsonName());
        node.put("misfire", d.misfire().jsonName());
        node.put("catchupWindowSeconds", d.catchupWindow().toSeconds());
        node.put("paused", schedule.paused());
        node.put("createdAt", Rfc3339.format(schedule.createdAt()));
        node.put("updatedAt", Rfc3339.format(schedule.updatedAt()));
        putTime(node, "nextRunAt", schedule.paused() ? null : schedule.nextRunAt());
        putTime(node, "lastRunAt", schedule.lastRunAt());
        node.put("missedRuns", schedule.missedRuns());
        node.put("skippedRuns", schedule.skippedRuns());
        return node;
    }

    /** The answer to a delete: {@code {"id": ..., "deleted": true}}. */
    public ObjectNode deleted(String id) {
        ObjectNode node = json.createObjectNode();
        node.put("id", id);
        node.put("deleted", true);
        return node;
    }

    /** A page of schedules: {@code {"schedules": [...], "nextCursor": id or null}}. */
    public ObjectNode schedules(List<Schedule> page, String nextCursor) {
        ObjectNode node = json.createObjectNode();
        ArrayNode list = node.putArray("schedules");
        page.forEach(s -> list.add(schedule(s)));
        if (nextCursor == null) {
            node.putNull("nextCursor");
        } else {
            node.put("nextCursor", nextCursor);
        }
        return node;
    }

    /** A preview: {@code {"runs": [{"at": UTC, "local": with the zone's offset}, ...]}}. */
    public ObjectNode preview(List<RunTime> runs) {
        ObjectNode node = json.createObjectNode();
        ArrayNode list = node.putArray("runs");
        for (RunTime run : runs) {
            ObjectNode row = list.addObject();
            row.put("at", Rfc3339.format(run.at()));
            row.put("local", run.local().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        }
        return node;
    }

    private static void putTime(ObjectNode node, String field, Instant value) {
        if (value == null) {
            node.putNull(field);
        } else {
            node.put(field, Rfc3339.format(value));
        }
    }

    /**
     * A page of a job's delivery history: {@code jobId}, {@code attempts} (each: number, node, start and end, outcome,
     * HTTP status when there was one, target, detail when it failed, duration in milliseconds) and
     * {@code nextCursor} (null on the last page).
     */
    public ObjectNode attempts(JobId id, List<AttemptRecord> attempts, Integer nextCursor) {
        ObjectNode node = json.createObjectNode();
        node.put("jobId", id.toString());
        ArrayNode list = node.putArray("attempts");
        for (AttemptRecord a : attempts) {
            ObjectNode row = list.addObject();
            row.put("attempt", a.attempt());
            row.put("node", a.node());
            row.put("startedAt", Rfc3339.format(a.startedAt()));
            row.put("finishedAt", Rfc3339.format(a.finishedAt()));
            row.put("outcome", a.outcome().label());
            if (a.status() != 0) {
                row.put("status", a.status());
            }
            if (a.target() != null) {
                row.put("target", a.target());
            }
            if (a.detail() != null) {
                row.put("detail", a.detail());
            }
            row.put("durationMs", a.duration().toNanos() / 1_000_000.0);
        }
        if (nextCursor != null) {
            node.put("nextCursor", nextCursor.toString());
        } else {
            node.putNull("nextCursor");
        }
        return node;
    }

    /** The tenant's targets: {@code {"targets": [...]}}, each as {@link #target}. */
    public ObjectNode targets(List<TargetStatus> targets) {
        ObjectNode node = json.createObjectNode();
        ArrayNode list = node.putArray("targets");
        targets.forEach(t -> list.add(target(t)));
        return node;
    }

    /**
     * One target: its id and name, its alarm level and since when, its pause, its counts over the window (summed over
     * every node), moving average, failures in a row, last error, and the due jobs this node holds for it.
     */
    public ObjectNode target(TargetStatus t) {
        ObjectNode node = json.createObjectNode();
        node.put("id", t.id());
        node.put("target", t.key().target());
        node.put("level", t.level().name());
        node.put("since", t.since() == null ? null : Rfc3339.format(t.since()));
        node.put("paused", t.paused() == null ? null : t.paused().name());
        node.put("pausedAt", t.pausedAt() == null ? null : Rfc3339.format(t.pausedAt()));
        node.put("pausedBy", t.pausedBy());
        node.put("attempts", t.total());
        node.put("errors", t.errors());
        node.put("errorRate", t.errorRate());
        node.put("movingAverage", t.movingAverage());
        node.put("consecutiveFailures", t.consecutiveFailures());
        node.put("lastError", t.lastError());
        node.put("lastErrorAt", t.lastErrorAt() == null ? null : Rfc3339.format(t.lastErrorAt()));
        node.put("held", t.held());
        return node;
    }

    /** RFC 9457: type, title, status, detail, then {@code errors} when there are field errors, then extensions. */
    public ObjectNode problem(ApiProblem problem) {
        ObjectNode node = json.createObjectNode();
        node.put("type", problem.type());
        node.put("title", problem.title());
        node.put("status", problem.status());
        node.put("detail", problem.detail());
        if (!problem.errors().isEmpty()) {
            ArrayNode errors = node.putArray("errors");
            problem.errors().forEach(e -> errors.addObject().put("field", e.field()).put("rule", e.rule()));
        }
        for (Map.Entry<String, Object> e : problem.extensions().entrySet()) {
            node.set(e.getKey(), json.valueToTree(e.getValue()));
        }
        return node;
    }

    /** The answer to a retry by hand of many jobs: {@code {"retried": n}}. */
    public ObjectNode retried(int retried) {
        return json.createObjectNode().put("retried", retried);
    }

    public ObjectNode health() {
        return json.createObjectNode().put("status", "ok");
    }

    public ObjectNode ready() {
        return json.createObjectNode().put("status", "ready");
    }

    public byte[] bytes(JsonNode node) {
        try {
            return json.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree always serializes", e);
        }
    }

    /**
     * Stored JSON (a target, a payload) back as a tree. Empty means JSON null. Bytes that are not JSON (a job
     * scheduled through the library with another handler) are shown as a string rather than failing the request.
     */
    private JsonNode storedJson(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return json.nullNode();
        }
        try {
            JsonNode node = json.readTree(bytes);
            return node == null || node.isMissingNode() ? json.nullNode() : node;
        } catch (IOException e) {
            return json.getNodeFactory().textNode(new String(bytes, StandardCharsets.UTF_8));
        }
    }
}
