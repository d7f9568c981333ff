package dev.hourglass.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.http.ApiProblem.ApiException;
import dev.hourglass.schedules.CreateResult;
import dev.hourglass.schedules.RecurringSchedules;
import dev.hourglass.schedules.Schedule;
import dev.hourglass.schedules.ScheduleNameTakenException;
import dev.hourglass.tenancy.QuotaGate;
import dev.hourglass.tenancy.QuotaRefusal;
import dev.hourglass.tenancy.Tenant;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The tenant's recurring schedules (docs/recurring.md):
 *
 * <pre>
 * POST   /v1/schedules                 create (201, or 200 for a repeat with the same Idempotency-Key and body)
 * GET    /v1/schedules?limit=&amp;cursor=  list, in id order
 * GET    /v1/schedules/{id}            one
 * PATCH  /v1/schedules/{id}            change (the runs not yet started follow the new definition)
 * DELETE /v1/schedules/{id}            delete (the runs not yet started are cancelled)
 * POST   /v1/schedules/{id}/pause      pause; /resume; /trigger (one run now)
 * GET    /v1/schedules/{id}/preview?n= the next n run times
 * </pre>
 *
 * A schedule of another tenant is not found, as one that does not exist. A create passes the tenant's quotas as a
 * job's schedule does (its rate and its payload size); so does a trigger.
 */
final class SchedulesApi {
    static final String PREFIX = "/v1/schedules";

    /** What to answer: a status, a JSON body, headers. */
    record Reply(int status, JsonNode body, Map<String, String> headers) {}

    private final RecurringSchedules schedules;
    private final RecurringRequestParser parser;
    private final JobJson json;
    private final QuotaGate quotas;

    SchedulesApi(RecurringSchedules schedules, RecurringRequestParser parser, JobJson json, QuotaGate quotas) {
        this.schedules = Objects.requireNonNull(schedules, "schedules");
        this.parser = Objects.requireNonNull(parser, "parser");
        this.json = Objects.requireNonNull(json, "json");
        this.quotas = Objects.requireNonNull(quotas, "quotas");
    }

    static boolean takesBody(String method, String path) {
        return (method.equals("POST") && path.equals(PREFIX)) || method.equals("PATCH");
    }

    /** Routes a request under {@value #PREFIX}; {@code body} is its JSON body if {@link #takesBody}, else null. */
    Reply handle(Tenant tenant, String method, String path, String rawQuery, byte[] body, String idempotencyKey) {
        if (path.equals(PREFIX)) {
            return switch (ApiHandler.allow(method, "GET", "POST")) {
                case "GET" -> list(tenant, rawQuery);
                default -> create(tenant, body, idempotencyKey);
            };
        }
        String rest = path.substring(PREFIX.length() + 1);
        String[] parts = rest.split("/", -1);
        String id = parts[0];
        if (parts.length == 1) {
            return switch (ApiHandler.allow(method, "GET", "PATCH", "DELETE")) {
                case "GET" -> ok(find(tenant, id));
                case "PATCH" -> change(tenant, id, body);
                default -> delete(tenant, id);
            };
        }
        if (parts.length != 2) {
            throw ApiHandler.notFound(path);
        }
        return switch (parts[1]) {
            case "pause" -> {
                ApiHandler.allow(method, "POST");
                yield ok(schedules.pause(tenant.name(), id).orElseThrow(() -> unknown(id)));
            }
            case "resume" -> {
                ApiHandler.allow(method, "POST");
                yield ok(schedules.resume(tenant.name(), id).orElseThrow(() -> unknown(id)));
            }
            case "trigger" -> {
                ApiHandler.allow(method, "POST");
                yield trigger(tenant, id);
            }
            case "preview" -> {
                ApiHandler.allow(method, "GET");
                int n = parser.previewCount(rawQuery);
                yield new Reply(200, json.preview(schedules.preview(find(tenant, id), n)), Map.of());
            }
            default -> throw ApiHandler.notFound(path);
        };
    }

    private Reply create(Tenant tenant, byte[] body, String idempotencyKey) {
        RecurringRequestParser.Create request = parser.usableBy(tenant).create(body, idempotencyKey);
        admit(tenant, request.definition().payload().length, "nothing was stored");
        CreateResult result = schedules.create(tenant.name(), request.definition(), request.paused(),
                request.idempotencyKey(), request.requestHash());
        return switch (result) {
            case CreateResult.Created created -> {
                quotas.accepted(tenant.name());
                yield new Reply(201, json.schedule(created.schedule()), location(created.schedule()));
            }
            case CreateResult.Duplicate duplicate -> {
                Schedule schedule = find(tenant, duplicate.scheduleId());
                yield new Reply(200, json.schedule(schedule), location(schedule));
            }
            case CreateResult.Conflict conflict -> throw ApiProblem.of(409, "idempotency-conflict",
                    "Idempotency key reused", "Idempotency-Key was already used by a different request (schedule "
                            + conflict.scheduleId() + "); send the same body to get that schedule, or use a new key")
                    .withExtension("scheduleId", conflict.scheduleId())
                    .exception();
            case CreateResult.NameTaken taken -> throw nameTaken(request.definition().name());
        };
    }

    private Reply list(Tenant tenant, String rawQuery) {
        RecurringRequestParser.ListQuery query = parser.listQuery(rawQuery);
        List<Schedule> page = schedules.list(tenant.name(), query.after(), query.limit());
        String next = page.size() == query.limit() ? page.getLast().id() : null;
        return new Reply(200, json.schedules(page, next), Map.of());
    }

    private Reply change(Tenant tenant, String id, byte[] body) {
        Schedule current = find(tenant, id);
        RecurringRequestParser.Change change = parser.usableBy(tenant).change(body, current.definition());
        Schedule changed;
        try {
            changed = schedules.update(tenant.name(), id, change.definition()).orElseThrow(() -> unknown(id));
        } catch (ScheduleNameTakenException e) {
            throw nameTaken(e.name());
        }
        if (change.paused() != null && change.paused() != changed.paused()) {
            changed = (change.paused() ? schedules.pause(tenant.name(), id) : schedules.resume(tenant.name(), id))
                    .orElseThrow(() -> unknown(id));
        }
        return ok(changed);
    }

    private Reply delete(Tenant tenant, String id) {
        if (!schedules.delete(tenant.name(), id)) {
            throw unknown(id);
        }
        return new Reply(200, json.deleted(id), Map.of());
    }

    private Reply trigger(Tenant tenant, String id) {
        Schedule schedule = find(tenant, id);
        admit(tenant, schedule.definition().payload().length, "nothing was run");
        InsertResult result = schedules.trigger(tenant.name(), id).orElseThrow(() -> unknown(id));
        quotas.accepted(tenant.name());
        return new Reply(201, json.job(result.job()), Map.of("Location", "/v1/jobs/" + result.job().id()));
    }

    private void admit(Tenant tenant, int payloadBytes, String unchanged) {
        QuotaRefusal refusal = quotas.admit(tenant, payloadBytes, Duration.ZERO);
        if (refusal != null) {
            throw ApiHandler.overQuota(refusal, unchanged);
        }
    }

    private Schedule find(Tenant tenant, String id) {
        return schedules.get(tenant.name(), id).orElseThrow(() -> unknown(id));
    }

    private Reply ok(Schedule schedule) {
        return new Reply(200, json.schedule(schedule), Map.of());
    }

    private static Map<String, String> location(Schedule schedule) {
        return Map.of("Location", PREFIX + "/" + schedule.id());
    }

    private static ApiException unknown(String id) {
        String shown = id.length() > 64 ? id.substring(0, 61) + "..." : id;
        return ApiProblem.of(404, "schedule-not-found", "Schedule not found", "no schedule with id " + shown)
                .withExtension("scheduleId", shown).exception();
    }

    private static ApiException nameTaken(String name) {
        return ApiProblem.of(409, "schedule-name-taken", "Schedule name taken",
                "the tenant has a schedule named \"" + name + "\" already; choose another name or change that one")
                .withExtension("name", name).exception();
    }
}
