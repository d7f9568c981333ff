package dev.hourglass.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.core.api.InvalidJobException;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.TraceParent;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.DeadLetterFilter;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.core.targets.TargetStatus;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.http.ApiProblem.ApiException;
import dev.hourglass.http.ScheduleRequestParser.AttemptsQuery;
import dev.hourglass.http.ScheduleRequestParser.ListQuery;
import dev.hourglass.http.ScheduleRequestParser.Schedule;
import dev.hourglass.queues.QueueConnection;
import dev.hourglass.recurring.InvalidScheduleException;
import dev.hourglass.schedules.RecurringSchedules;
import dev.hourglass.tenancy.QuotaGate;
import dev.hourglass.tenancy.QuotaRefusal;
import dev.hourglass.tenancy.Tenant;
import dev.hourglass.tenancy.TenantDirectory;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import dev.hourglass.webhook.address.WebhookAllowlist;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API, version 1. Routes requests, hands valid ones to the engine and turns every outcome into a response:
 * JSON for results, {@code application/problem+json} for every error. A request that fails validation never reaches
 * the engine; a store failure is a 503 with {@code Retry-After} and nothing acknowledged, except a value the store
 * refuses ({@link InvalidDataException}), which is the request's fault: 400 {@code invalid-data}; nothing a client
 * sends produces a 500 or a stack trace. Every call into the engine is bounded by the store timeout
 * ({@link StoreDeadline}): when the database is gone, even behind a network that swallows packets, the answer is a 503
 * within it.
 *
 * <pre>
 * POST   /v1/jobs                  schedule (201, or 200 for a repeat with the same Idempotency-Key and body)
 * GET    /v1/jobs?state=&amp;limit=&amp;cursor=&amp;include=&amp;target=&amp;outcome=&amp;since=
 *                                  list, in id (creation) order
 * GET    /v1/jobs/{id}             status
 * DELETE /v1/jobs/{id}             cancel a SCHEDULED job
 * POST   /v1/jobs/{id}/reschedule  move a SCHEDULED job
 * GET    /v1/jobs/{id}/attempts    the job's delivery history, in attempt order
 * POST   /v1/jobs/{id}/retry       retry a FAILED job by hand
 * POST   /v1/jobs/retry            retry by hand every FAILED job a filter selects
 * GET    /v1/targets               the tenant's watched targets: alarms, counts, pauses
 * GET    /v1/targets/{target}      one of them (by id or URL-encoded origin)
 * POST   /v1/targets/{target}/pause|resume  hold its due jobs, or let them go again
 * GET    /healthz                  liveness: 200 while the server answers, whatever the store does; 503 once the engine
 *                                  has failed (a thread of it died: restart the process)
 * GET    /readyz                   readiness: 200 while the store answers, 503 while it cannot be reached, once the
 *                                  engine has failed, or while it starts what came due before it started (<= 60 s)
 * GET    /v1/openapi.yaml          this API's contract (no key needed)
 * GET    /metrics                  Prometheus metrics, when served here ({@link #serveMetrics}; the admin key if set)
 * </pre>
 *
 * <p>Every request under {@code /v1/} carries an API key ({@code Authorization: Bearer ...}, see
 * {@link Authenticator}): a tenant's key for {@code /v1/jobs}, the admin key for {@code /v1/admin/} ({@link AdminApi}).
 * The tenant is passed explicitly to every engine call, so a tenant acting on another tenant's job gets the same 404
 * as for a job that does not exist. Each schedule and reschedule passes its tenant's quotas ({@link QuotaGate})
 * before it reaches the engine: over a quota, 429 with {@code Retry-After}, and nothing stored or changed.
 */
public final class ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

    public static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    /**
     * What one list page may cost, in the bytes {@link JobQuery#cost} counts: a page ends early, with a cursor, at the
     * first job that would go over (a page always holds at least one job).
     */
    public static final long DEFAULT_MAX_PAGE_BYTES = 4L * 1024 * 1024;
    /** How long a request waits for the store before it is answered 503. */
    public static final Duration DEFAULT_STORE_TIMEOUT = Duration.ofSeconds(5);
    static final String JSON = "application/json";
    static final String PROBLEM_JSON = "application/problem+json";
    private static final String JOBS = "/v1/jobs";
    private static final String TARGETS = "/v1/targets";
    private static final String RETRY = "retry";
    /**
     * How long after start readiness waits, at most, for the node to start its start-up backlog
     * ({@link Hourglass#caughtUp}): a restart after a long outage may find more due than it can start in a minute,
     * and a node that never says ready takes the API away from its callers for all that time.
     */
    static final Duration CATCH_UP_READINESS_LIMIT = Duration.ofSeconds(60);

    private final Hourglass hourglass;
    /** Replaced once, before serving, by {@link #deliverToQueues}. */
    private volatile ScheduleRequestParser parser;
    private RecurringSchedules recurring;
    private final JobJson jobJson;
    private final JobPageWriter pageWriter;
    private final int maxBodyBytes;
    private final StoreDeadline deadline;
    /** When this handler was made (the engine's ticker): the start of the catch-up that readiness waits for. */
    private final long createdNanos;
    private final Authenticator auth;
    private final QuotaGate quotas;
    private final AdminApi admin;
    /** The metrics served at {@value MetricsExposition#PATH}; null when they are off or on a port of their own. */
    private volatile MetricsExposition metrics;
    /** Whether {@link #metrics} takes the admin key (it does whenever the server has one). */
    private final boolean metricsNeedAdminKey;
    private final ScheduleTracing tracing;
    /** The recurring schedules API; null until {@link #serveSchedules} (a store without SQL keeps none). */
    private volatile SchedulesApi schedules;

    /**
     * @param maxBodyBytes the largest request body read; a larger one is answered 413 without reading it all
     * @param storeTimeout the longest a request waits for the engine and its store before it is answered 503
     * @param addressGuard refuses a webhook target whose host is or resolves to a blocked address (the same guard
     *     the webhook client resolves through)
     * @param tenants the tenants and their API keys, in memory
     * @param quotas checks each schedule against its tenant's quotas
     * @param adminKey the key of the admin API, or null to turn the admin API off
     */
    public ApiHandler(Hourglass hourglass, int maxBodyBytes, Duration storeTimeout, GuardedDnsResolver addressGuard,
            TenantDirectory tenants, QuotaGate quotas, String adminKey) {
        this(hourglass, maxBodyBytes, storeTimeout, addressGuard, tenants, quotas, adminKey,
                new AuthFailureThrottle(SystemTime.ticker(), AuthFailureThrottle.DEFAULT_FAILURES_PER_MINUTE));
    }

    /** @param authThrottle refuses (429) a client address that failed authentication too often */
    public ApiHandler(Hourglass hourglass, int maxBodyBytes, Duration storeTimeout, GuardedDnsResolver addressGuard,
            TenantDirectory tenants, QuotaGate quotas, String adminKey, AuthFailureThrottle authThrottle) {
        this(hourglass, maxBodyBytes, storeTimeout, addressGuard, tenants, quotas, adminKey, authThrottle,
                OpenTelemetry.noop());
    }

    /**
     * @param openTelemetry traces each schedule call ({@link ScheduleTracing}); {@link OpenTelemetry#noop()} for
     *     none (a job then keeps the caller's {@code traceparent} as it came)
     */
    public ApiHandler(Hourglass hourglass, int maxBodyBytes, Duration storeTimeout, GuardedDnsResolver addressGuard,
            TenantDirectory tenants, QuotaGate quotas, String adminKey, AuthFailureThrottle authThrottle,
            OpenTelemetry openTelemetry) {
        this.tracing = new ScheduleTracing(openTelemetry);
        this.hourglass = Objects.requireNonNull(hourglass, "hourglass");
        var mapper = JobJson.newMapper();
        this.parser = new ScheduleRequestParser(mapper, hourglass.wallClock(), hourglass.config().maxDelay(),
                hourglass.config().maxPayloadBytes(), addressGuard);
        this.jobJson = new JobJson(mapper);
        this.pageWriter = new JobPageWriter(mapper);
        this.maxBodyBytes = maxBodyBytes;
        this.deadline = new StoreDeadline(storeTimeout);
        this.createdNanos = hourglass.ticker().nanoTime();
        this.auth = new Authenticator(tenants, adminKey, Objects.requireNonNull(authThrottle, "authThrottle"));
        this.quotas = Objects.requireNonNull(quotas, "quotas");
        this.admin = new AdminApi(tenants, mapper, addressGuard);
        this.metricsNeedAdminKey = adminKey != null;
    }

    /**
     * Serves {@code exposition} at {@value MetricsExposition#PATH} on this API. It lists every tenant's name and
     * volumes, so it takes the admin key when the server has one; without one the server has no tenant but
     * {@code default} (tenants are created through the admin API), and the metrics are open like {@code /healthz}.
     */
    public ApiHandler serveMetrics(MetricsExposition exposition) {
        this.metrics = Objects.requireNonNull(exposition, "exposition");
        return this;
    }

    /**
     * Serves the tenants' recurring schedules at {@value SchedulesApi#PREFIX} (docs/recurring.md), kept by
     * {@code schedules}; without it those paths answer 404.
     */
    public ApiHandler serveSchedules(RecurringSchedules recurring) {
        this.recurring = recurring;
        this.schedules = new SchedulesApi(recurring, new RecurringRequestParser(parser, hourglass.wallClock()), jobJson,
                quotas);
        return this;
    }

    /**
     * Takes jobs and schedules whose target is a queue on one of {@code connections} ({@code kafka},
     * {@code rabbitmq}, {@code nats}, {@code redis}; docs/queues.md); without it such targets are refused as naming
     * no connection.
     */
    public ApiHandler deliverToQueues(Map<String, QueueConnection> connections) {
        this.parser = parser.withConnections(connections);
        if (recurring != null) {
            serveSchedules(recurring);
        }
        return this;
    }

    /**
     * Answers one call; never throws (a client that went away is only logged). A schedule ({@code POST /v1/jobs}) is
     * traced: its span's context, child of the caller's {@code traceparent}, is what the job keeps
     * ({@link ScheduleTracing}).
     */
    public void handle(HttpCall exchange) {
        if (!exchange.rawPath().equals(JOBS) || !exchange.method().equals("POST")) {
            answer(exchange);
            return;
        }
        ScheduleTracing.ScheduleSpan span = tracing.start(traceParent(exchange));
        ScheduleTracing.TracedCall call = new ScheduleTracing.TracedCall(exchange, span.traceParent());
        try {
            answer(call);
        } finally {
            span.answered(call.status());
        }
    }

    private void answer(HttpCall exchange) {
        try {
            try {
                route(exchange);
            } catch (ApiException e) {
                sendProblem(exchange, e.problem());
            } catch (InvalidJobException e) {
                sendProblem(exchange, ApiProblem.invalid(apiField(e.field()), e.rule()));
            } catch (InvalidScheduleException e) {
                sendProblem(exchange, ApiProblem.invalid(e.field(), e.rule()));
            } catch (InvalidDataException e) {
                log.info("{} {}: the store refused a value: {}", exchange.method(), exchange.rawPath(),
                        e.getCause() != null ? e.getCause().toString() : e.getMessage());
                sendProblem(exchange, invalidData(e));
            } catch (StoreException e) {
                log.warn("{} {}: store unavailable: {}", exchange.method(), exchange.rawPath(), e.toString());
                sendProblem(exchange, storeUnavailable(e instanceof StoreUnavailableException u && u.outcomeUnknown()
                        ? "the connection to the job store failed during the commit, so the change may or may not "
                                + "have been made; retry shortly (a schedule with the same Idempotency-Key then "
                                + "returns the job if it was stored)"
                        : "the job store is unavailable; nothing was changed; retry shortly"));
            } catch (StoreDeadline.Expired e) {
                log.warn("{} {}: {}", exchange.method(), exchange.rawPath(), e.getMessage());
                sendProblem(exchange, storeUnavailable(e.getMessage() + "; nothing was acknowledged and the change "
                        + "was most likely not made, but a write already being committed may still take effect; "
                        + "retry shortly (a schedule with the same Idempotency-Key cannot create a second job)"));
            } catch (IllegalStateException e) {
                // The engine is shutting down (or not running): nothing was acknowledged.
                log.warn("{} {}: {}", exchange.method(), exchange.rawPath(), e.toString());
                sendProblem(exchange, ApiProblem.of(503, "unavailable", "Service unavailable",
                        "the scheduler is shutting down; nothing was changed; retry on another instance or later")
                        .withHeader("Retry-After", "1"));
            } catch (RuntimeException e) {
                log.error("{} {} failed", exchange.method(), exchange.rawPath(), e);
                sendProblem(exchange, ApiProblem.of(500, "internal", "Internal server error",
                        "the request could not be completed; it may or may not have taken effect"));
            }
        } catch (IOException e) {
            // The client went away while the answer was being written: nothing more to do.
            log.debug("could not send the response: {}", e.toString());
        }
    }

    private void route(HttpCall ex) throws IOException {
        String path = ex.rawPath();
        String method = ex.method();
        if (path.equals("/healthz")) {
            allow(method, "GET");
            refuseIfFailed();
            send(ex, 200, jobJson.health(), Map.of());
        } else if (path.equals("/readyz")) {
            allow(method, "GET");
            ready(ex);
        } else if (path.equals(MetricsExposition.PATH) && metrics != null) {
            allow(method, "GET");
            if (metricsNeedAdminKey) {
                auth.admin(ex);
            }
            MetricsExposition.Scrape scrape = metrics.scrape(ex.header("Accept"));
            write(ex, 200, scrape.contentType(), scrape.body(), Map.of());
        } else if (path.equals(OpenApiContract.PATH)) {
            allow(method, "GET");
            write(ex, 200, OpenApiContract.MEDIA_TYPE, OpenApiContract.yaml(), Map.of());
        } else if (path.equals(AdminApi.PREFIX) || path.startsWith(AdminApi.PREFIX + "/")) {
            auth.admin(ex);
            byte[] body = AdminApi.takesBody(method, path) ? jsonBody(ex) : null;
            AdminApi.Reply reply = deadline.call(() -> admin.handle(method, path, body));
            send(ex, reply.status(), reply.body(), reply.headers());
        } else if (path.equals(SchedulesApi.PREFIX) || path.startsWith(SchedulesApi.PREFIX + "/")) {
            Tenant tenant = auth.tenant(ex);
            SchedulesApi api = schedules;
            if (api == null) {
                throw ApiProblem.of(404, "not-found", "Not found", "this server keeps no recurring schedules")
                        .exception();
            }
            byte[] body = SchedulesApi.takesBody(method, path) ? jsonBody(ex) : null;
            SchedulesApi.Reply reply = deadline.call(() -> api.handle(tenant, method, path, ex.rawQuery(), body,
                    ex.header("Idempotency-Key")));
            send(ex, reply.status(), reply.body(), reply.headers());
        } else if (path.equals(TARGETS) || path.startsWith(TARGETS + "/")) {
            targets(ex, auth.tenant(ex).name(), path, method);
        } else if (path.equals(JOBS)) {
            Tenant tenant = auth.tenant(ex);
            switch (allow(method, "GET", "POST")) {
                case "GET" -> list(ex, tenant.name());
                default -> schedule(ex, tenant);
            }
        } else if (path.startsWith(JOBS + "/")) {
            Tenant tenant = auth.tenant(ex);
            String rest = path.substring(JOBS.length() + 1);
            int slash = rest.indexOf('/');
            if (rest.equals(RETRY)) { // not a job id: ids are UUIDs
                allow(method, "POST");
                retryFailed(ex, tenant.name());
            } else if (slash < 0) {
                switch (allow(method, "GET", "DELETE")) {
                    case "GET" -> get(ex, tenant.name(), jobId(rest));
                    default -> cancel(ex, tenant.name(), jobId(rest));
                }
            } else if (rest.substring(slash).equals("/reschedule")) {
                allow(method, "POST");
                reschedule(ex, tenant, jobId(rest.substring(0, slash)));
            } else if (rest.substring(slash).equals("/attempts")) {
                allow(method, "GET");
                attempts(ex, tenant.name(), jobId(rest.substring(0, slash)));
            } else if (rest.substring(slash).equals("/" + RETRY)) {
                allow(method, "POST");
                retry(ex, tenant.name(), jobId(rest.substring(0, slash)));
            } else {
                throw notFound(path);
            }
        } else {
            throw notFound(path);
        }
    }

    // ---- operations ----

    private void schedule(HttpCall ex, Tenant tenant) throws IOException {
        byte[] body = jsonBody(ex);
        Schedule request = parser.usableBy(tenant).schedule(body, ex.header("Idempotency-Key"));
        TraceParent context = ex instanceof ScheduleTracing.TracedCall traced ? traced.traceParent() : traceParent(ex);
        JobRequest job = request.job().withTenant(tenant.name()).withTraceParent(context);
        When when = request.when();
        QuotaRefusal refusal = quotas.admit(tenant, job.payload() == null ? 0 : job.payload().length, delay(when));
        if (refusal != null) {
            throw overQuota(refusal, "nothing was stored");
        }
        // Async, so that a caller whose deadline passes withdraws the write (see StoreDeadline).
        InsertResult insert = deadline.await(hourglass.scheduleAsync(job, when));
        switch (insert) {
            case InsertResult.Created created -> {
                quotas.accepted(tenant.name());
                sendJob(ex, 201, created.job());
            }
            case InsertResult.Duplicate duplicate -> sendJob(ex, 200, duplicate.job());
            case InsertResult.Conflict conflict -> throw new ApiProblem(409, ApiProblem.TYPE_PREFIX
                    + "idempotency-conflict", "Idempotency key reused",
                    "Idempotency-Key was already used by a different request (job " + conflict.job().id()
                            + "); send the same body to get that job, or use a new key",
                    List.of(new FieldError("Idempotency-Key", "was used by a different request")),
                    Map.of("jobId", conflict.job().id().toString()), Map.of()).exception();
        }
    }

    /**
     * The caller's W3C trace context, which the job keeps for its attempts. An absent, repeated or invalid
     * {@code traceparent} is ignored, never refused: a receiver of a broken one must not fail the request
     * (W3C Trace Context, "processing model").
     */
    static TraceParent traceParent(HttpCall ex) {
        List<String> values = ex.headers("traceparent");
        return values.size() == 1 ? TraceParent.parse(values.getFirst()).orElse(null) : null;
    }

    private void get(HttpCall ex, String tenant, JobId id) throws IOException {
        Job job = deadline.call(() -> hourglass.forTenant(tenant).getStatus(id))
                .orElseThrow(() -> unknownJob(id.toString()));
        send(ex, 200, jobJson.job(job), Map.of());
    }

    /**
     * One page, bounded by the row limit and by {@link #DEFAULT_MAX_PAGE_BYTES}, with payloads only when asked
     * ({@code include=payload}); streamed (chunked), one job at a time.
     */
    private void list(HttpCall ex, String tenant) throws IOException {
        ListQuery q = parser.listQuery(ex.rawQuery());
        JobQuery query = new JobQuery(tenant, q.state(), q.after(), q.limit(), q.payloads(), DEFAULT_MAX_PAGE_BYTES)
                .filtered(q.deadLetters());
        JobPage page = deadline.call(() -> hourglass.list(query));
        ex.respond(200, Map.of("Content-Type", JSON), out -> pageWriter.write(page, q.payloads(), out));
    }

    /**
     * One page of a job's delivery history, in attempt order. A full page has a {@code nextCursor} (its last attempt
     * number); the page after it may be empty. 404 for a job of another tenant, as for one that does not exist.
     */
    private void attempts(HttpCall ex, String tenant, JobId id) throws IOException {
        AttemptsQuery q = parser.attemptsQuery(ex.rawQuery());
        List<AttemptRecord> page = deadline.call(() -> hourglass.forTenant(tenant)
                .attempts(id, q.afterAttempt(), q.limit()))
                .orElseThrow(() -> unknownJob(id.toString()));
        Integer next = page.size() == q.limit() ? page.getLast().attempt() : null;
        send(ex, 200, jobJson.attempts(id, page, next), Map.of());
    }

    private void cancel(HttpCall ex, String tenant, JobId id) throws IOException {
        ChangeResult result = deadline.call(() -> hourglass.forTenant(tenant).cancel(id));
        send(ex, 200, jobJson.job(changed(result, id, JobState.SCHEDULED, "cancelled")), Map.of());
    }

    /**
     * A FAILED job runs again, due now, with the engine's default number of attempts on top of those it used (its
     * attempt numbers continue). The retry is recorded as the tenant's whose key asked. No body is read. Not a
     * quota matter: the job was admitted when it was scheduled, and a retry adds no schedule.
     */
    private void retry(HttpCall ex, String tenant, JobId id) throws IOException {
        ChangeResult result = deadline.call(() -> hourglass.forTenant(tenant).retry(id, tenant));
        send(ex, 200, jobJson.job(changed(result, id, JobState.FAILED, "retried")), Map.of());
    }

    /**
     * Retries by hand every FAILED job of the tenant that the body's filters select, in bounded transactions; answers
     * how many were moved. Bounded by the store timeout like every call: past it the answer is a 503, and the jobs
     * moved until then stay moved (each batch is committed before the next is read).
     */
    private void retryFailed(HttpCall ex, String tenant) throws IOException {
        DeadLetterFilter filter = parser.retryFilter(jsonBody(ex));
        int retried = deadline.call(() -> hourglass.forTenant(tenant).retryFailed(filter, tenant));
        send(ex, 200, jobJson.retried(retried), Map.of());
    }

    /** A reschedule passes the same quotas as a schedule where they apply ({@link QuotaGate#admitReschedule}). */
    private void reschedule(HttpCall ex, Tenant tenant, JobId id) throws IOException {
        byte[] body = jsonBody(ex);
        When when = parser.reschedule(body);
        QuotaRefusal refusal = quotas.admitReschedule(tenant, delay(when));
        if (refusal != null) {
            throw overQuota(refusal, "the job was not changed");
        }
        ChangeResult result = deadline.call(() -> hourglass.forTenant(tenant.name()).reschedule(id, when));
        send(ex, 200, jobJson.job(changed(result, id, JobState.SCHEDULED, "rescheduled")), Map.of());
    }

    /**
     * Readiness: whether the engine's latest write (at least one per load interval, the heartbeat) reached the store
     * and could be written (not refused for a full disk or an I/O error). Until a write succeeds again, schedules are
     * answered 503 and firing pauses; a load balancer may prefer another node. {@code /healthz} stays 200 meanwhile:
     * restarting the process would not bring the database back, and the node recovers by itself when it returns.
     */
    private void ready(HttpCall ex) throws IOException {
        refuseIfFailed();
        if (!hourglass.storeReachable()) {
            throw storeUnavailable("the job store cannot be reached or cannot write (disk full, I/O error): "
                    + "schedules are refused and firing is paused until a write succeeds again").exception();
        }
        if (!hourglass.caughtUp()
                && hourglass.ticker().nanoTime() - createdNanos < CATCH_UP_READINESS_LIMIT.toNanos()) {
            throw ApiProblem.of(503, "catching-up", "Catching up", "this node is working off the jobs that came due "
                    + "before it started (after a restart: while it was down); jobs due from now on would wait "
                    + "behind them").withHeader("Retry-After", "1").exception();
        }
        send(ex, 200, jobJson.ready(), Map.of());
    }

    /**
     * Liveness and readiness both fail once the engine has failed ({@link Hourglass#failure()}): the process fires
     * nothing more and only a restart brings it back, which is what a failing liveness probe makes a supervisor do.
     */
    private void refuseIfFailed() {
        hourglass.failure().ifPresent(failure -> {
            throw ApiProblem.of(503, "engine-failed", "Engine failed", failure.describe()
                    + "; this node fires no more jobs: restart the process (nothing acknowledged is lost)")
                    .exception();
        });
    }

    /**
     * A value the validation let through but the store cannot keep: the request's fault, so 400 (a retry of the same
     * request cannot succeed), naming the field when the store said which. Nothing was stored.
     */
    static ApiProblem invalidData(InvalidDataException e) {
        String field = e.field() == null ? "request" : apiField(e.field());
        FieldError error = new FieldError(field, e.reason());
        return new ApiProblem(400, ApiProblem.TYPE_PREFIX + "invalid-data", "Invalid data",
                "the job store cannot keep a value of this request; nothing was changed: " + error, List.of(error),
                Map.of(), Map.of());
    }

    private static ApiProblem storeUnavailable(String detail) {
        return ApiProblem.of(503, "store-unavailable", "Service unavailable", detail).withHeader("Retry-After", "1");
    }

    /**
     * The job after a cancel, reschedule or retry, or the problem: 404 unknown, 409 naming the state it is in
     * ({@code needed}: the state the change needs).
     */
    private static Job changed(ChangeResult result, JobId id, JobState needed, String verb) {
        return switch (result) {
            case ChangeResult.Changed changed -> changed.job();
            case ChangeResult.NotFound notFound -> throw unknownJob(id.toString());
            case ChangeResult.WrongState wrong -> throw ApiProblem.of(409, "wrong-state",
                    "Job not " + needed.name().toLowerCase(java.util.Locale.ROOT),
                    "job " + id + " is " + wrong.job().state() + "; only a " + needed + " job can be " + verb)
                    .withExtension("jobId", id.toString())
                    .withExtension("state", wrong.job().state().name())
                    .exception();
        };
    }

    // ---- request checks ----

    /** How far from now {@code when} is (negative for a time in the past), as the quotas measure it. */
    private Duration delay(When when) {
        return switch (when) {
            case When.After after -> after.delay();
            case When.At at -> Duration.between(hourglass.wallClock().instant(), at.instant());
        };
    }

    /** 429 naming the quota and its limit, with {@code Retry-After}; {@code unchanged} says what was not done. */
    static ApiException overQuota(QuotaRefusal refusal, String unchanged) {
        return ApiProblem.of(429, "quota-exceeded", "Quota exceeded", refusal.detail() + "; " + unchanged)
                .withExtension("quota", refusal.quota())
                .withExtension("limit", refusal.limit())
                .withHeader("Retry-After", Long.toString(refusal.retryAfterSeconds()))
                .exception();
    }

    /** The method must be one of {@code allowed}: else 405 with {@code Allow}. Returns it. */
    static String allow(String method, String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return a;
            }
        }
        String list = String.join(", ", allowed);
        throw ApiProblem.of(405, "method-not-allowed", "Method not allowed",
                "method " + method + " is not allowed here; allowed: " + list).withHeader("Allow", list).exception();
    }

    /** A path segment that is not a job id names no job: 404, like an id that does not exist. */
    private static JobId jobId(String segment) {
        JobId id = JobId.parseOrNull(segment);
        if (id == null) {
            throw unknownJob(segment);
        }
        return id;
    }

    /** A JSON body: Content-Type application/json (415 otherwise), at most maxBodyBytes (413 otherwise). */
    private byte[] jsonBody(HttpCall ex) throws IOException {
        String contentType = ex.header("Content-Type");
        if (!isJson(contentType)) {
            throw new ApiProblem(415, ApiProblem.TYPE_PREFIX + "unsupported-media-type", "Unsupported media type",
                    "Content-Type must be application/json (optionally with charset=utf-8), was "
                            + (contentType == null ? "absent" : "'" + contentType + "'"),
                    List.of(new FieldError("Content-Type", "must be application/json")), Map.of(), Map.of())
                    .exception();
        }
        String length = ex.header("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > maxBodyBytes) {
                    throw bodyTooLarge();
                }
            } catch (NumberFormatException e) {
                // The HTTP server has already refused a malformed length; read with the cap below.
            }
        }
        try (InputStream in = ex.body()) {
            byte[] body = in.readNBytes(maxBodyBytes + 1);
            if (body.length > maxBodyBytes) {
                throw bodyTooLarge();
            }
            return body;
        }
    }

    private ApiException bodyTooLarge() {
        return ApiProblem.invalid(List.of(new FieldError("body", "must be at most " + maxBodyBytes + " bytes")), true)
                .exception();
    }

    /** {@code application/json}, with at most a {@code charset} parameter that says UTF-8. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String[] parts = contentType.split(";");
        if (!parts[0].trim().equalsIgnoreCase(JSON)) {
            return false;
        }
        for (int i = 1; i < parts.length; i++) {
            String param = parts[i].trim();
            int eq = param.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String name = param.substring(0, eq).trim();
            String value = param.substring(eq + 1).trim().replace("\"", "");
            if (name.equalsIgnoreCase("charset") && !value.equalsIgnoreCase("utf-8")) {
                return false;
            }
        }
        return true;
    }

    /** Engine field names as the API spells them. */
    private static String apiField(String engineField) {
        return switch (engineField) {
            case "delay" -> "delaySeconds";
            case "dueAt" -> "runAt";
            case "timeout" -> "timeoutSeconds";
            case "idempotencyKey" -> "Idempotency-Key";
            default -> engineField;
        };
    }

    static ApiException notFound(String path) {
        return ApiProblem.of(404, "not-found", "Not found", "no resource at " + path).exception();
    }

    /**
     * The tenant's watched targets: {@code GET /v1/targets}, {@code GET /v1/targets/{target}},
     * {@code POST /v1/targets/{target}/pause} and {@code .../resume}. {@code {target}} is the target's id or its
     * URL-encoded name (a webhook's origin). The tenant is recorded as who paused or resumed it.
     */
    private void targets(HttpCall ex, String tenant, String path, String method) throws IOException {
        TargetMonitor monitor = hourglass.targets().orElseThrow(() -> ApiProblem.of(404, "not-found", "Not found",
                "this server does not watch its targets").exception());
        if (path.equals(TARGETS)) {
            allow(method, "GET");
            List<TargetStatus> all = deadline.call(() -> monitor.targets(tenant));
            send(ex, 200, jobJson.targets(all), Map.of());
            return;
        }
        String[] parts = path.substring(TARGETS.length() + 1).split("/", -1);
        String target = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
        Optional<TargetStatus> result;
        if (parts.length == 1) {
            allow(method, "GET");
            result = deadline.call(() -> monitor.target(tenant, target));
        } else if (parts.length == 2 && (parts[1].equals("pause") || parts[1].equals("resume"))) {
            allow(method, "POST");
            boolean pause = parts[1].equals("pause");
            result = deadline.call(() -> pause ? monitor.pause(tenant, target, tenant)
                    : monitor.resume(tenant, target, tenant));
        } else {
            throw notFound(path);
        }
        TargetStatus status = result.orElseThrow(() -> unknownTarget(target));
        send(ex, 200, jobJson.target(status), Map.of());
    }

    private static ApiException unknownTarget(String target) {
        String shown = target.length() > 200 ? target.substring(0, 197) + "..." : target;
        return ApiProblem.of(404, "target-not-found", "Target not found", "no target " + shown
                + " of this tenant: a target is known once a delivery to it was recorded").exception();
    }

    private static ApiException unknownJob(String id) {
        String shown = id.length() > 64 ? id.substring(0, 61) + "..." : id;
        return ApiProblem.of(404, "job-not-found", "Job not found", "no job with id " + shown)
                .withExtension("jobId", shown).exception();
    }

    // ---- responses ----

    private void sendJob(HttpCall ex, int status, Job job) throws IOException {
        send(ex, status, jobJson.job(job), Map.of("Location", JOBS + "/" + job.id()));
    }

    private void send(HttpCall ex, int status, JsonNode body, Map<String, String> headers) throws IOException {
        write(ex, status, JSON, jobJson.bytes(body), headers);
    }

    private void sendProblem(HttpCall ex, ApiProblem problem) throws IOException {
        write(ex, problem.status(), PROBLEM_JSON, jobJson.bytes(jobJson.problem(problem)), problem.headers());
    }

    private static void write(HttpCall ex, int status, String contentType, byte[] body,
            Map<String, String> headers) throws IOException {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("Content-Type", contentType);
        all.putAll(headers);
        ex.respond(status, all, body);
    }
}
