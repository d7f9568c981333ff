package dev.hourglass.schedules;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.ScheduledRun;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.supervision.Supervision;
import dev.hourglass.recurring.CatchUp;
import dev.hourglass.recurring.CronRecurrence;
import dev.hourglass.recurring.InvalidScheduleException;
import dev.hourglass.recurring.Jitter;
import dev.hourglass.recurring.Recurrence;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recurring schedules on an engine: each run is an ordinary job, created durably ahead of its nominal time, so the
 * engine's promises (durable, never early, at least once) carry over to it.
 *
 * <p><b>Materializing.</b> A schedule's runs are created by {@link #materializeDue()}, which every node calls about
 * once a second: for each schedule whose {@code materializeAt} has come, it makes up for runs whose time passed
 * without a job (after downtime or a pause: {@link CatchUp} under the schedule's misfire rule), then creates every run
 * due within {@link #lookahead} (and at least the next one), and stores the new state with a compare-and-set on the
 * schedule's version. A run's idempotency key is its schedule, revision and nominal time, so two nodes that
 * materialize the same schedule at once create each run once: the second insert finds the first's job.
 *
 * <p><b>Changes.</b> A pause, a new definition or a delete cancels the runs not yet started (a started run is never cut
 * off: the engine's cancel loses to a start) and raises the revision, so the runs created afterwards are new jobs.
 *
 * <p>Clocks: the engine's wall clock decides which runs are due, as it decides for every job.
 */
public final class RecurringSchedules implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RecurringSchedules.class);
    /** How far ahead of their nominal time runs are created, by default. */
    public static final Duration DEFAULT_LOOKAHEAD = Duration.ofSeconds(10);
    /** How often {@link #start()}'s loop looks for schedules due for materializing (monotonic time). */
    public static final Duration MATERIALIZE_EVERY = Duration.ofSeconds(1);
    /** Schedules looked at in one {@link #materializeDue()} call at most. */
    static final int BATCH = 500;
    /** Idempotency keys of runs start with this; callers' own keys may not. */
    public static final String RUN_KEY_PREFIX = ScheduledRun.KEY_PREFIX;

    private final Hourglass engine;
    private final ScheduleStore store;
    private final InstantSource clock;
    private final Duration lookahead;
    /** The loop {@link #start()} began; guarded by this. */
    private ScheduledExecutorService loop;

    public RecurringSchedules(Hourglass engine, ScheduleStore store, Duration lookahead) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.store = Objects.requireNonNull(store, "store");
        this.clock = engine.wallClock();
        this.lookahead = Objects.requireNonNull(lookahead, "lookahead");
        if (lookahead.compareTo(MATERIALIZE_EVERY.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("the lookahead must be at least two materializer rounds ("
                    + MATERIALIZE_EVERY.multipliedBy(2) + "), so that a run is created before it is due: " + lookahead);
        }
    }

    public RecurringSchedules(Hourglass engine, ScheduleStore store) {
        this(engine, store, DEFAULT_LOOKAHEAD);
    }

    public Duration lookahead() {
        return lookahead;
    }

    /**
     * Starts creating runs in the background, every {@link #MATERIALIZE_EVERY}, on a thread of its own. A failure
     * of one round is logged and the next round tries again; an {@link Error} goes to the thread's uncaught-exception
     * handler, as the engine's own periodic tasks' do.
     */
    public synchronized RecurringSchedules start() {
        if (loop == null) {
            loop = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("hourglass-schedules")
                    .daemon(true).factory());
            loop.scheduleWithFixedDelay(Supervision.reportingErrors("creating the runs of recurring schedules",
                    this::materializeDue), 0, MATERIALIZE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** Stops the background loop (a round in progress finishes); the schedules and their runs stay in the store. */
    @Override
    public synchronized void close() {
        if (loop != null) {
            loop.shutdown();
            try {
                loop.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            loop = null;
        }
    }

    /**
     * Creates a schedule and its first runs.
     *
     * @throws InvalidScheduleException naming the field that is wrong; nothing is stored
     * @throws ScheduleNameTakenException if the tenant has a schedule of that name
     */
    public Schedule create(String tenant, ScheduleDefinition definition, boolean paused) {
        return switch (create(tenant, definition, paused, null, null)) {
            case CreateResult.Created created -> created.schedule();
            case CreateResult.NameTaken taken -> throw new ScheduleNameTakenException(definition.name());
            default -> throw new IllegalStateException("a create without a key cannot repeat another");
        };
    }

    /**
     * Creates a schedule and its first runs, under an Idempotency-Key (null: none) and the digest of the request
     * that carried it: a repeat of the same request finds the schedule it created, another request with the key is a
     * conflict, and neither stores anything.
     *
     * @throws InvalidScheduleException naming the field that is wrong; nothing is stored
     */
    public CreateResult create(String tenant, ScheduleDefinition definition, boolean paused, String idempotencyKey,
            byte[] requestHash) {
        // Whole milliseconds, as the store keeps them: an interval's runs count from this instant, and every node
        // must compute the same run times (and so the same requests under the same keys) from what it reads back.
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        ScheduleDefinition anchored = definition.anchoredAt(now);
        Recurrence recurrence = anchored.recurrence();
        Instant first = firstAfter(anchored, recurrence, startBoundary(anchored, now))
                .orElseThrow(() -> new InvalidScheduleException(anchored.cron() != null ? "cron" : "endAt",
                        "the schedule names no run from now on (before endAt, within ten years)"));
        Schedule schedule = new Schedule("sch_" + UUID.randomUUID(), tenant, anchored, paused, 1, 1, now, now, null,
                paused ? null : now, first, null, 0, 0);
        CreateResult result = store.create(schedule, idempotencyKey, requestHash);
        if (!(result instanceof CreateResult.Created)) {
            return result;
        }
        if (!paused) {
            try {
                materialize(schedule, now);
            } catch (RuntimeException e) {
                // The schedule is stored: the loop creates its runs on its next round.
                log.warn("schedule {}: its first runs are left to the next round: {}", schedule.id(), e.toString());
            }
        }
        return new CreateResult.Created(get(tenant, schedule.id()).orElseThrow());
    }

    /** The tenant's schedule, with the nominal times of its latest run that came due and of its next run. */
    public Optional<Schedule> get(String tenant, String id) {
        return store.find(tenant, id).map(this::withRunTimes);
    }

    public List<Schedule> list(String tenant, String afterId, int limit) {
        return store.list(tenant, afterId, limit).stream().map(this::withRunTimes).toList();
    }

    /** The next {@code n} run times from now, or from {@code startAt} if it is later; none after {@code endAt}. */
    public List<RunTime> preview(Schedule schedule, int n) {
        ScheduleDefinition definition = schedule.definition();
        Recurrence recurrence = definition.recurrence();
        ZoneId zone = definition.cron() != null ? CronRecurrence.zone(definition.timezone()) : ZoneOffset.UTC;
        Instant now = clock.instant();
        Instant from = definition.startAt() != null && definition.startAt().isAfter(now) ? definition.startAt() : now;
        List<RunTime> times = new ArrayList<>();
        for (Instant at : recurrence.next(from, n)) {
            if (definition.endAt() != null && at.isAfter(definition.endAt())) {
                break;
            }
            times.add(new RunTime(at, at.atZone(zone).toOffsetDateTime()));
        }
        return times;
    }

    /** Pauses: no run is created until {@link #resume}; the runs not yet started are cancelled. */
    public Optional<Schedule> pause(String tenant, String id) {
        return change(tenant, id, (current, now) -> current.next(now, current.definition(), true,
                current.revision(), earlierOf(current.materializedThrough(), now), null, null, current.missedRuns()));
    }

    /** Resumes: the runs that came due while paused are handled by the misfire rule, then the schedule goes on. */
    public Optional<Schedule> resume(String tenant, String id) {
        return change(tenant, id, (current, now) -> current.paused()
                ? current.next(now, current.definition(), false, current.revision() + 1,
                        current.materializedThrough(), now, current.nextRunAt(), current.missedRuns())
                : current);
    }

    /**
     * Replaces the definition: the runs not yet started are cancelled, and the runs after now follow the new one.
     *
     * @throws InvalidScheduleException naming the field that is wrong; nothing is changed
     * @throws ScheduleNameTakenException if the new name is another schedule's
     */
    public Optional<Schedule> update(String tenant, String id, ScheduleDefinition definition) {
        ScheduleDefinition checked = definition.anchoredAt(clock.instant().truncatedTo(ChronoUnit.MILLIS));
        checked.recurrence();
        store.findByName(tenant, checked.name()).filter(other -> !other.id().equals(id)).ifPresent(other -> {
            throw new ScheduleNameTakenException(checked.name());
        });
        return change(tenant, id, (current, now) -> current.next(now, checked, current.paused(),
                current.revision() + 1, earlierOf(current.materializedThrough(), now), current.paused() ? null : now,
                current.nextRunAt(), current.missedRuns()));
    }

    /** Deletes the schedule; its runs not yet started are cancelled, a run in progress goes on. */
    public boolean delete(String tenant, String id) {
        Optional<Schedule> schedule = store.find(tenant, id);
        if (schedule.isEmpty()) {
            return false;
        }
        cancelRunsAfter(schedule.get(), clock.instant());
        return store.delete(tenant, id);
    }

    /** One run now, outside the schedule's times (it does not count as a scheduled run). */
    public Optional<InsertResult> trigger(String tenant, String id) {
        return store.find(tenant, id).map(schedule -> engine.schedule(
                request(schedule, RUN_KEY_PREFIX + schedule.id() + ":trigger:" + UUID.randomUUID()), When.now()));
    }

    /**
     * Creates the runs of every schedule whose next look has come; call about once a second. Returns how many
     * schedules it advanced.
     */
    public int materializeDue() {
        Instant now = clock.instant();
        int advanced = 0;
        for (Schedule schedule : store.dueForMaterializing(now, BATCH)) {
            try {
                if (materialize(schedule, now)) {
                    advanced++;
                }
            } catch (RuntimeException e) {
                // One schedule's failure (a store hiccup, a definition that no longer validates) must not stop the
                // others; it is looked at again on the next call.
                log.warn("schedule {}: could not create its runs: {}", schedule.id(), e.toString());
            }
        }
        return advanced;
    }

    // ---- how runs are made ----

    private boolean materialize(Schedule schedule, Instant now) {
        ScheduleDefinition definition = schedule.definition();
        Recurrence recurrence = definition.recurrence();
        Instant after = schedule.materializedThrough() != null
                ? schedule.materializedThrough() : startBoundary(definition, schedule.createdAt());
        CatchUp overdue = CatchUp.plan(recurrence, after, now, definition.misfire(), definition.catchupWindow(),
                definition.endAt());
        List<Instant> nominal = new ArrayList<>(overdue.run());
        Instant cursor = laterOf(after, now);
        Instant horizon = now.plus(lookahead);
        Optional<Instant> next = firstAfter(definition, recurrence, cursor);
        while (next.isPresent() && !next.get().isAfter(horizon)) {
            nominal.add(next.get());
            next = firstAfter(definition, recurrence, next.get());
        }
        // And the first run beyond the lookahead: until the next look (when it comes within the lookahead) it is the
        // run that guarantees the schedule's next run exists in the store.
        next.ifPresent(nominal::add);
        List<ScheduleRun> runs = new ArrayList<>(nominal.size());
        List<ScheduleRun> createdHere = new ArrayList<>();
        for (Instant at : nominal) {
            InsertResult result = engine.schedule(request(schedule, runKey(schedule, at)),
                    When.at(Jitter.dueTime(schedule.id(), at, definition.jitter())));
            if (result instanceof InsertResult.Conflict conflict) {
                throw new IllegalStateException("run " + at + " of schedule " + schedule.id()
                        + " has a key another request took: job " + conflict.job().id());
            }
            ScheduleRun run = new ScheduleRun(schedule.id(), at, result.job().id());
            runs.add(run);
            if (result instanceof InsertResult.Created) {
                createdHere.add(run);
            }
        }
        Instant through = nominal.isEmpty() ? laterOf(after, now) : nominal.getLast();
        Instant nextRunAt = nominal.stream().filter(at -> at.isAfter(now)).findFirst().orElse(null);
        // Looked at again when the last run created comes within the lookahead; never, after the schedule's last run.
        Instant materializeAt = next.isPresent() ? through.minus(lookahead) : null;
        Schedule updated = schedule.next(now, definition, false, schedule.revision(), through, materializeAt,
                nextRunAt, schedule.missedRuns() + overdue.missed());
        if (store.replace(schedule, updated, runs)) {
            return true;
        }
        // Another node or call changed the schedule first. If it was another materializer (same revision, not
        // paused), the runs created here are the schedule's own: whoever looks next finds them by their keys and
        // records them. If it was a pause, a change or a delete, runs it does not know of must not fire: cancel the
        // ones this call created.
        Optional<Schedule> winner = store.find(schedule.tenant(), schedule.id());
        boolean stillOurs = winner.isPresent() && winner.get().revision() == schedule.revision()
                && !winner.get().paused();
        if (!stillOurs) {
            for (ScheduleRun run : createdHere) {
                engine.cancel(run.jobId());
            }
        }
        return false;
    }

    private interface Change {
        Schedule apply(Schedule current, Instant now);
    }

    /** Applies {@code change} with a compare-and-set, again on a fresh read if another change won. */
    private Optional<Schedule> change(String tenant, String id, Change change) {
        for (int attempt = 0; attempt < 20; attempt++) {
            Optional<Schedule> current = store.find(tenant, id);
            if (current.isEmpty()) {
                return Optional.empty();
            }
            Instant now = clock.instant();
            Schedule next = change.apply(current.get(), now);
            if (next == current.get()) {
                return get(tenant, id);
            }
            if (store.replace(current.get(), next, List.of())) {
                if (next.revision() != current.get().revision() || next.paused()) {
                    cancelRunsAfter(next, now);
                }
                if (next.materializeAt() != null && !next.materializeAt().isAfter(now)) {
                    materialize(next, now); // what the store holds now: the compare-and-set wrote it
                }
                return get(tenant, id);
            }
        }
        throw new IllegalStateException("schedule " + id + " kept changing under 20 attempts to change it");
    }

    /**
     * Cancels the schedule's runs nominally after {@code now} that have not started (the cancel loses to a start),
     * and forgets them: a run that will not happen is neither the schedule's next run nor a predecessor.
     */
    private void cancelRunsAfter(Schedule schedule, Instant now) {
        List<Instant> cancelled = new ArrayList<>();
        for (ScheduleRun run : store.runsAfter(schedule.id(), now)) {
            ChangeResult result = engine.cancel(run.jobId());
            if (result instanceof ChangeResult.Changed
                    || (result instanceof ChangeResult.WrongState wrong && wrong.job().state() == JobState.CANCELLED)) {
                cancelled.add(run.nominalAt());
            }
        }
        store.forgetRuns(schedule.id(), cancelled);
    }

    private Schedule withRunTimes(Schedule schedule) {
        Instant now = clock.instant();
        Schedule read = schedule.withLastRunAt(store.runBefore(schedule.id(), now.plusMillis(1))
                .map(ScheduleRun::nominalAt).orElse(null));
        if (read.paused()) {
            return read;
        }
        // The stored next run is the one of the last look; the runs created since may include an earlier one.
        return store.runsAfter(schedule.id(), now).stream().findFirst()
                .map(run -> read.withNextRunAt(run.nominalAt())).orElse(read);
    }

    private JobRequest request(Schedule schedule, String key) {
        ScheduleDefinition d = schedule.definition();
        JobRequest request = JobRequest.of(d.handler(), d.payload()).withTarget(d.target())
                .withIdempotencyKey(key).withTenant(schedule.tenant());
        if (d.maxAttempts() != null) {
            request = request.withMaxAttempts(d.maxAttempts());
        }
        if (d.timeout() != null) {
            request = request.withTimeout(d.timeout());
        }
        return request;
    }

    static String runKey(Schedule schedule, Instant nominal) {
        return ScheduledRun.key(schedule.id(), schedule.revision(), nominal);
    }

    /** Runs are at or after this: {@code startAt} if set (an interval's first run is at it), else the creation. */
    private static Instant startBoundary(ScheduleDefinition definition, Instant createdAt) {
        if (definition.startAt() != null && definition.startAt().isAfter(createdAt)) {
            return definition.startAt().minusNanos(1);
        }
        return createdAt;
    }

    private static Optional<Instant> firstAfter(ScheduleDefinition definition, Recurrence recurrence, Instant after) {
        Optional<Instant> next = recurrence.nextAfter(after);
        return next.filter(at -> definition.endAt() == null || !at.isAfter(definition.endAt()));
    }

    /**
     * Where runs resume after a pause or a change: the runs after {@code now} were cancelled, so the next are created
     * from {@code now} on; a schedule that was behind keeps its own mark, and catch-up covers the gap.
     */
    private static Instant earlierOf(Instant materializedThrough, Instant now) {
        if (materializedThrough == null) {
            return null;
        }
        return materializedThrough.isBefore(now) ? materializedThrough : now;
    }

    private static Instant laterOf(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return a.isAfter(b) ? a : b;
    }
}
