package dev.hourglass.core.engine;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.InvalidJobException;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Scheduling;
import dev.hourglass.core.api.TenantShares;
import dev.hourglass.core.api.When;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.DeadLetterFilter;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.NodePresence;
import dev.hourglass.core.store.ReleaseParams;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.RetryRequest;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.store.TransactionalInsert;
import dev.hourglass.core.supervision.EngineFailure;
import dev.hourglass.core.supervision.FatalErrorHandler;
import dev.hourglass.core.supervision.Supervision;
import dev.hourglass.core.targets.TargetEventListener;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.core.targets.TargetPolicy;
import dev.hourglass.core.time.Instants;
import dev.hourglass.core.time.StoreClock;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler, embedded. Schedules jobs durably (a call returns after the commit that holds the job), fires them
 * at their due time on the wall clock (never before; on a store shared by several nodes, the store's clock: see
 * {@link Builder#syncClockToStore}), and runs each attempt through the handler registered under the job's handler
 * name, at least once.
 *
 * <pre>{@code
 * try (Hourglass hourglass = Hourglass.builder()
 *         .store(SqliteJobStore.open(Path.of("hourglass-data/hourglass.db")))
 *         .handler("send-reminder", ctx -> { mailer.send(ctx.payload()); return Outcome.succeeded(); })
 *         .build()) {
 *     hourglass.schedule(JobRequest.of("send-reminder", bytes), When.after(Duration.ofHours(24)));
 * }
 * }</pre>
 *
 * <p>Threads: one group committer (the only store writer), one timer thread, one dispatcher, one loader, one for
 * delays (attempt timeouts); attempts run on virtual threads. With {@link Builder#manualLoops()} the timer, loader and
 * delays run only when a test calls their steps ({@link #loops()}).
 */
public final class Hourglass implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Hourglass.class);
    /** How long {@link #close} waits for a horizon round that is running; a healthy round takes milliseconds. */
    private static final Duration ROUND_AT_CLOSE = Duration.ofSeconds(5);
    /** How many FAILED jobs a bulk retry by hand moves per transaction (see {@link #retryFailed}). */
    static final int RETRY_BATCH = 500;
    /** How late the oldest job waiting for a slot may be for the node to count as caught up ({@link #caughtUp}). */
    static final Duration CAUGHT_UP_LAG = Duration.ofMillis(100);

    private final EngineConfig config;
    private final JobStore store;
    private final boolean closeStore;
    /** The cluster clock when the store has one (see {@link Builder#syncClockToStore}), else the builder's. */
    private final InstantSource wallClock;
    /** Keeps {@link #wallClock} on the store's clock; null when the engine runs on the builder's clock as is. */
    private final ClockSync clockSync;
    private final GroupCommitter committer;
    private final FiringLoop timer;
    private final Dispatcher dispatcher;
    private final HorizonLoader loader;
    /**
     * This node's mark of life in a shared store, dropped by the store when this process dies, so that other nodes
     * rescue its claims at once; held until the claims are handed back at close.
     */
    private final NodePresence presence;
    private final ClaimReconciler reconciler;
    private final Submissions submissions;
    private final ScheduledExecutorService background;
    /** Watches the engine's threads: one that dies stops the node and is reported ({@link #failure()}). */
    private final Supervision supervision;
    /** Attempt timeouts and outcome-write retries, on the ticker. */
    private final Delays delays;
    /** The loops as steps, when a driver runs them ({@link Builder#manualLoops}); else null. */
    private final EngineLoops manualLoops;
    private final EngineMetrics metrics;
    /** Measures how long schedule calls wait for their commit (monotonic). */
    private final Ticker ticker;
    private volatile boolean closed;
    /** Watches every target and holds paused targets' jobs ({@link Builder#watchTargets}); null when off. */
    private final TargetMonitor targetMonitor;
    /** Names the targets of the timer's entries (when watched) and of the attempts. */
    private final TargetNames targetNames;
    /** The store's announcements of jobs committed unowned (transactional enqueue), until close. */
    private volatile JobStore.Subscription announcements = () -> {};
    /** Claims unowned jobs due soon at once (announced ones, retried ones); set by {@link #start}. */
    private volatile EarlyClaims earlyClaims;
    /**
     * Slots taken when the start-up backlog was seen all started, or -1 before: the backlog's attempts are over once
     * as many slots were released (attempts end roughly in the order they started).
     */
    private volatile long backlogSlotsTaken = -1;
    /** Set once the start-up backlog's attempts are over; never cleared. */
    private volatile boolean caughtUp;

    private Hourglass(Builder b) {
        this.config = b.config.validate();
        this.store = b.store;
        this.closeStore = b.closeStore;
        this.metrics = b.metrics;
        this.ticker = b.ticker;
        // Before anything reads the time: every component gets the one clock, already measured if the store answers.
        this.clockSync = b.syncsClock()
                ? ClockSync.measure(store, b.wallClock, b.ticker, b.metrics).orElse(null)
                : null;
        this.wallClock = clockSync == null ? b.wallClock : clockSync.clock();
        JobIdGenerator ids = new JobIdGenerator(wallClock);
        store.lastJobId().ifPresent(last -> ids.advancePast(last.hi()));
        this.submissions = new Submissions(config, ids, b.handlers.keySet());
        this.committer = new GroupCommitter(store, config.commitBatch(), b.metrics, b.ticker);
        this.background = Executors.newScheduledThreadPool(1,
                Thread.ofPlatform().name("hourglass-background").daemon(true).factory());
        this.supervision = new Supervision(b.fatalErrorHandler, this::stopAfterFailure);
        this.delays = new Delays(b.ticker);
        this.manualLoops = b.manualLoops ? new ManualLoops() : null;
        TargetNames attemptTargets = new TargetNames(b.handlers);
        this.targetNames = b.targetSettings != null ? attemptTargets : TargetNames.OFF;
        this.targetMonitor = b.targetSettings == null ? null : new TargetMonitor(store,
                b.targetSettings.withFromHistory(b.targetSettings.fromHistory() && b.deliveryHistory), wallClock,
                config.nodeId(), b.targetPolicies, b.targetListener);
        Dispatcher.RetryScheduler retries = new Dispatcher.RetryScheduler() {
            @Override
            public String ownerFor(Instant dueAt) {
                return ownerForDue(dueAt);
            }

            @Override
            public void retryCommitted(Job job, Instant dueAt) {
                timer.add(TimerEntry.of(job, dueAt.toEpochMilli(), targetNames));
            }
        };
        // Method references, because the timer and the dispatcher are built below: they are used only once a doubt
        // is settled, after start(). Entries read back from the store keep the timer's entry of the same claim.
        this.reconciler = new ClaimReconciler(config.nodeId(), store, this::putBackInTimer, this::resumeAttempt,
                this::mayFire, b.ticker, targetNames);
        this.dispatcher = new Dispatcher(config, wallClock, committer, b.handlers, b.metrics, retries,
                reconciler, new FairDispatchQueue(config.maxInFlight(), b.tenantShares, b.fairDispatch),
                this::leaseHeld, delays, deliveryListener(b), b.deliveryHistory, attemptTargets);
        if (targetMonitor != null) {
            targetMonitor.holdWith(dispatcher.gate());
            dispatcher.gate().onProbeResults(targetMonitor::probeEnded);
        }
        this.timer = new FiringLoop(wallClock, dispatcher::dispatch);
        this.presence = store.exclusive() ? NodePresence.NONE : store.holdPresence(config.nodeId());
        this.loader = new HorizonLoader(config, wallClock, committer, timer, b.ticker, store,
                reconciler::claimAnswerLost, b.metrics, targetNames, presence);
    }

    /**
     * The builder's delivery listener, and the target monitor's feed when it counts this node's attempts itself (the
     * history off); with the history on, the monitor reads every node's attempts from the store instead.
     */
    private DeliveryListener deliveryListener(Builder b) {
        if (targetMonitor == null || targetMonitor.settings().fromHistory()) {
            return b.deliveryListener;
        }
        DeliveryListener outer = b.deliveryListener;
        return new DeliveryListener() {
            @Override
            public void delivered(Job job, DeliveryAttempt attempt) {
                targetMonitor.recordLocal(job.tenant(), attempt, wallClock.instant(), null);
                outer.delivered(job, attempt);
            }

            @Override
            public void jobFailed(Job job, String error) {
                outer.jobFailed(job, error);
            }
        };
    }

    private void start() {
        metrics.engineStarted(new View()); // first: the commits below are measured with the store's label
        if (clockSync != null) {
            clockSync.start(supervision);
        }
        committer.start(supervision);
        dispatcher.start(supervision);
        if (manualLoops == null) {
            timer.start(supervision);
            delays.start(supervision);
        }
        if (targetMonitor != null) {
            // Before the first claims: paused targets' jobs are held from the first due entry on.
            targetMonitor.load();
            if (manualLoops == null) {
                targetMonitor.start(supervision);
            }
        }
        // The first round runs before build() returns: after a restart, the earliest due jobs are back in the timer at
        // once. It claims one batch; the regular rounds, which start at once if it left more, claim the rest, so
        // that start-up does not wait for a whole backlog (loops driven by hand claim all of it here).
        loader.runFirstRound(store.exclusive(), manualLoops == null);
        if (manualLoops == null) {
            long claimedThrough = loader.claimedThroughMillis();
            if (claimedThrough != Long.MAX_VALUE) {
                // So that a node that found nothing due says caught up from its first answer on.
                timer.awaitHandedOnThrough(claimedThrough, 1_000);
            }
            long interval = config.loadInterval().toMillis();
            background.scheduleWithFixedDelay(supervision.supervised("horizon round", () -> {
                loader.runRound();
                reconciler.runRound();
            }), claimedThrough == Long.MAX_VALUE ? 0 : interval, interval, TimeUnit.MILLISECONDS);
        }
        // A job committed in a caller's transaction is unowned: claim it at once if it is due soon, on the loader's
        // thread, rather than at the next round.
        EarlyClaims early = new EarlyClaims(wallClock, config.horizon(), background, loader::claimNow);
        earlyClaims = early;
        announcements = store.onNewJobs(early::announced);
        log.info("Hourglass node {} started (horizon {}, lease {}{})", config.nodeId(), config.horizon(),
                config.leaseTtl(), manualLoops == null ? "" : ", loops driven manually");
    }

    /** What a metrics binding reads of this engine. */
    private final class View implements EngineView {
        @Override
        public String nodeId() {
            return config.nodeId();
        }

        @Override
        public JobStore store() {
            return store;
        }

        @Override
        public InstantSource wallClock() {
            return wallClock;
        }

        @Override
        public int timerEntries() {
            return timer.size();
        }

        @Override
        public boolean storeReachable() {
            return committer.storeReachable();
        }
    }

    /** The loops as steps for a driver; see {@link EngineLoops}. */
    private final class ManualLoops implements EngineLoops {
        @Override
        public int fireDue() {
            return timer.fireDue();
        }

        @Override
        public void runHorizonRound() {
            loader.runRound();
        }

        @Override
        public void runReconcilerRound() {
            reconciler.runRound();
        }

        @Override
        public int runDueDelays() {
            return delays.runDue();
        }

        @Override
        public boolean idle() {
            return dispatcher.queued() == 0 && dispatcher.inFlight() == 0 && committer.idle();
        }
    }

    /**
     * The engine's loops as explicit steps, for a test driver.
     *
     * @throws IllegalStateException unless built with {@link Builder#manualLoops()}
     */
    public EngineLoops loops() {
        if (manualLoops == null) {
            throw new IllegalStateException("the loops run on the engine's own threads: build with manualLoops() "
                    + "to drive them");
        }
        return manualLoops;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Schedules a job to run {@code when} says. Returns after the job is durable (committed, and on stable storage).
     *
     * @return {@link InsertResult.Created}, or for an idempotency key already taken {@link InsertResult.Duplicate}
     *     (the same request: the job that has it) or {@link InsertResult.Conflict} (another request)
     * @throws InvalidJobException when the request breaks a rule (the field and the rule are named); nothing is stored
     * @throws InvalidDataException when the store cannot keep a value of the request (an instant beyond its range, a
     *     NUL in a text): nothing is stored, and the other callers' writes are not affected
     * @throws StoreException when the store fails; the job may or may not be stored unless the cause says it was not
     */
    public InsertResult schedule(JobRequest job, When when) {
        return join(scheduleAsync(job, when));
    }

    /**
     * {@link #schedule}, without waiting: the future completes once the job is durable. A caller who stops waiting
     * (cancels the future, or a deadline such as {@code orTimeout}) withdraws the insert if its transaction has not
     * begun.
     */
    public CompletableFuture<InsertResult> scheduleAsync(JobRequest job, When when) {
        return submit(timed(job, when));
    }

    /**
     * Schedules many jobs in one call and returns once every one of them is durable: one result per job, in the order
     * given. Every request is checked before any is stored, so an invalid one stores nothing
     * ({@link InvalidJobException}, its field prefixed with the job's position: {@code jobs[3].handler}). The jobs
     * then go to the group committer together, which writes them in transactions of up to
     * {@link EngineConfig#commitBatch()} jobs, one fsync each: the fast way to load many jobs (docs/benchmarks.md).
     *
     * <p>Not atomic: when a transaction fails, the jobs of the others are stored all the same, and the call throws
     * that failure once every write has ended. Give the jobs idempotency keys and call again: those already stored
     * then answer {@link InsertResult.Duplicate}.
     *
     * @throws InvalidJobException when a request breaks a rule; nothing is stored
     * @throws StoreException when a write fails (the first one, after every write has ended)
     */
    public List<InsertResult> scheduleAll(List<Scheduling> jobs) {
        List<CompletableFuture<InsertResult>> futures = scheduleAllAsync(jobs);
        // Every write ends before the first failure is thrown, so that the caller's retry finds them all decided.
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).handle((done, error) -> null).join();
        return futures.stream().map(Hourglass::join).toList();
    }

    /**
     * {@link #scheduleAll}, without waiting: a future per job, in the order given, each completing once its job is
     * durable. The requests are all checked before this returns ({@link InvalidJobException}: nothing is stored).
     */
    public List<CompletableFuture<InsertResult>> scheduleAllAsync(List<Scheduling> jobs) {
        Objects.requireNonNull(jobs, "jobs");
        List<NewJob> checked = new ArrayList<>(jobs.size());
        for (int i = 0; i < jobs.size(); i++) {
            Scheduling scheduling = Objects.requireNonNull(jobs.get(i), "jobs[" + i + "]");
            try {
                checked.add(newJob(timed(scheduling.job(), scheduling.when()), true));
            } catch (InvalidJobException e) {
                throw new InvalidJobException("jobs[" + i + "]." + e.field(), e.rule());
            }
        }
        List<CompletableFuture<InsertResult>> futures = new ArrayList<>(checked.size());
        checked.forEach(job -> futures.add(submit(job)));
        return futures;
    }

    /**
     * Schedules a job inside the caller's own transaction {@code callerTx} (transactional enqueue: the outbox
     * pattern without an outbox), on a store that can join one ({@link TransactionalInsert}; on PostgreSQL,
     * {@code callerTx} is the caller's {@code java.sql.Connection}). The job exists if and only if the caller
     * commits; nothing is committed, rolled back or reconfigured here, and the transaction stays the caller's. The
     * request is validated exactly as by {@link #schedule} (an {@link InvalidJobException} before the transaction is
     * used, so it is untouched) and built the same way (id, defaults, idempotency), but unowned: after the commit the
     * store announces it and a node claims it at once if it is due within the horizon (on PostgreSQL through
     * LISTEN/NOTIFY), else the horizon rounds claim it as it comes near.
     *
     * <p>On PostgreSQL the connection must reach the store's database with autocommit off. The job is as durable as
     * the caller's commit (its session's {@code synchronous_commit}). A {@link InsertResult.Created} is provisional:
     * it holds once the caller commits, and a rollback frees the idempotency key again. Idempotency keys behave as
     * with {@link #schedule}: a key already taken, by a committed job or earlier in the same transaction, gives
     * {@link InsertResult.Duplicate} (same request) or {@link InsertResult.Conflict} (another request) and inserts
     * nothing; a key taken by another transaction that has not committed yet makes this call wait for it (the unique
     * index), then answers as above if it committed, or inserts if it rolled back. Under REPEATABLE READ or
     * SERIALIZABLE a key committed after the caller's snapshot cannot be answered consistently: the call fails with
     * a serialization failure, a {@link StoreException} (SQLState 40001), and the caller retries its transaction.
     *
     * @throws UnsupportedOperationException if the store cannot join a caller's transaction of that type (the
     *     embedded SQLite store joins none: its only writer is inside the store)
     * @throws IllegalArgumentException if {@code callerTx} has no open transaction (a connection in autocommit mode)
     * @throws StoreException if the insert fails; the caller's transaction is then aborted and must be rolled back
     */
    public <T> InsertResult scheduleInTransaction(T callerTx, JobRequest job, When when) {
        Objects.requireNonNull(callerTx, "callerTx");
        return insertIn(callerTx, timed(job, when));
    }

    /**
     * A request with its due time as asked, the time of the call, and how the caller said when (part of the
     * request's identity for idempotency): where every way to schedule starts.
     */
    private record Timed(JobRequest job, Instant requestedDueAt, Instant now, String schedule) {}

    private Timed timed(JobRequest job, When when) {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(when, "when");
        return switch (when) {
            case When.After after -> {
                Duration delay = after.delay();
                submissions.validateDelay(delay);
                Instant now = Instants.ceilMillis(wallClock.instant()); // so that dueAt - createdAt = delay exactly
                yield new Timed(job, now.plus(delay), now, when.toString());
            }
            case When.At at -> {
                Submissions.requireInRange(at.instant()); // before rounding: Instant.MAX cannot be rounded up
                yield new Timed(job, at.instant(), wallClock.instant(), when.toString());
            }
        };
    }

    /**
     * Validates the request and builds its job. {@code mayClaim}: this node claims it at insert when it is due
     * within the horizon; never for a caller's transaction, which may still roll back.
     */
    private NewJob newJob(Timed timed, boolean mayClaim) {
        ensureOpen();
        Instant dueAt = Instants.ceilMillis(timed.requestedDueAt());
        return submissions.toNewJob(timed.job(), dueAt, timed.now(), timed.schedule(),
                mayClaim ? ownerForDue(dueAt) : null);
    }

    private <T> InsertResult insertIn(T callerTx, Timed timed) {
        if (!(store instanceof TransactionalInsert<?> joining) || !joining.transactionType().isInstance(callerTx)) {
            throw new UnsupportedOperationException(store + " cannot schedule inside a caller's transaction ("
                    + callerTx.getClass().getName() + "): " + (store instanceof TransactionalInsert<?> other
                            ? "it joins a " + other.transactionType().getName()
                            : "it joins none (its single writer is its own, as the embedded SQLite file's is). Use "
                                    + "schedule(), or the PostgreSQL store"));
        }
        InsertResult result = insertJoining(joining, callerTx, newJob(timed, false));
        if (result instanceof InsertResult.Created created) {
            metrics.jobCreated(created.job(), null); // provisional: it holds if the caller commits
        }
        return result;
    }

    private static <T> InsertResult insertJoining(TransactionalInsert<T> store, Object callerTx, NewJob job) {
        return store.insertIn(store.transactionType().cast(callerTx), List.of(job)).getFirst();
    }

    private CompletableFuture<InsertResult> submit(Timed timed) {
        return submit(newJob(timed, true));
    }

    private CompletableFuture<InsertResult> submit(NewJob newJob) {
        long calledAt = ticker.nanoTime();
        // The caller's future is its own: a caller who stops waiting (cancel, or a deadline such as orTimeout)
        // withdraws the insert if its transaction has not begun. If it has, the write goes on without the caller,
        // and a committed job this node claimed still goes into the timer.
        CompletableFuture<InsertResult> result = new CompletableFuture<>();
        committer.insert(newJob, result::isDone).whenComplete((r, error) -> {
            if (error != null) {
                if (newJob.owner() != null) {
                    doubtIfUnconfirmed(error, newJob.id(), ClaimReconciler.Cause.INSERT);
                }
                result.completeExceptionally(error);
                return;
            }
            try {
                if (r instanceof InsertResult.Created created) {
                    if (newJob.owner() != null) {
                        timer.add(TimerEntry.of(created.job(), targetNames));
                    }
                    metrics.jobCreated(created.job(), Duration.ofNanos(ticker.nanoTime() - calledAt));
                }
            } finally {
                result.complete(r); // committed: the caller learns it whatever happens above
            }
        });
        return result;
    }

    /**
     * A write that would leave a job claimed by this node failed in a way that may hide a commit (the answer to
     * the commit was lost): the reconciler checks the store once it answers.
     */
    private void doubtIfUnconfirmed(Throwable error, JobId id, ClaimReconciler.Cause cause) {
        if (error instanceof StoreUnavailableException u && u.outcomeUnknown()) {
            reconciler.doubt(ClaimReconciler.Doubt.of(id, cause));
        }
    }

    private boolean leaseHeld() {
        return loader.leaseHeld();
    }

    /** Whether parked and doubted starts may go ahead: the store answers and this node's lease holds. */
    private boolean mayFire() {
        return committer.storeReachable() && loader.leaseHeld();
    }

    private void putBackInTimer(TimerEntry entry) {
        timer.addUnlessHeld(entry);
    }

    private boolean resumeAttempt(Job job) {
        return dispatcher.resume(job);
    }

    /** This node claims a job at insert (or retry, or reschedule) when it is due inside the horizon. */
    private String ownerForDue(Instant dueAt) {
        boolean inHorizon = !dueAt.isAfter(wallClock.instant().plus(config.horizon()));
        return inHorizon && timer.size() < config.maxTimerEntries() ? config.nodeId() : null;
    }

    /**
     * Cancels a SCHEDULED job. Exactly one of a cancel and a concurrent start wins (both are compare-and-sets).
     *
     * @return {@link ChangeResult.Changed} (now CANCELLED), {@link ChangeResult.WrongState} (running or finished) or
     *     {@link ChangeResult.NotFound}
     */
    public ChangeResult cancel(JobId id) {
        return cancel(id, null);
    }

    /**
     * Moves a SCHEDULED job to the time {@code when} says. The old claim's fencing token is invalidated, so the job
     * cannot fire at its old time too.
     */
    public ChangeResult reschedule(JobId id, When when) {
        return reschedule(id, null, when);
    }

    /**
     * Retries a FAILED job by hand ({@link dev.hourglass.core.model.Transition#RETRY_BY_HAND}): it is SCHEDULED
     * again, due now, with the engine's default number of attempts ({@link EngineConfig#defaultMaxAttempts}) on top
     * of those it used; the store records no one as having asked. See {@link #retry(JobId, int, String)}.
     */
    public ChangeResult retry(JobId id) {
        return retry(id, null);
    }

    /** {@link #retry(JobId)}, recording {@code by} (an operator, a tenant) as who asked. */
    public ChangeResult retry(JobId id, String by) {
        return retry(id, config.defaultMaxAttempts(), by);
    }

    /**
     * Retries a FAILED job by hand: it becomes SCHEDULED, unowned and due now, and this node claims it at once
     * (another node may claim it first). Its attempt numbers continue where they stopped: a job that failed after 5
     * attempts runs attempt 6 next, and may run {@code freshAttempts} more before it fails again. Its last error is
     * kept until an attempt replaces it. Returns after the change is durable, like {@link #cancel}.
     *
     * <p>Why fresh attempts are counted from the attempts used rather than reset: the attempt number stays unique per
     * job (the delivery history and receivers' idempotency keys, {@code <job id>:<attempt>}, rely on it), and the
     * job's {@code maxAttempts} still says when it gives up. The default ({@link #retry(JobId, String)}) is the
     * engine's default budget, not the job's own {@code maxAttempts}: that value already counts the attempts used,
     * and grows with every retry by hand.
     *
     * @param freshAttempts how many more attempts the job may make, 1 to {@value RetryRequest#MAX_FRESH_ATTEMPTS}
     * @param by who asked, as the store records it ({@code retried_by}); null when not said
     * @return {@link ChangeResult.Changed} (now SCHEDULED), {@link ChangeResult.WrongState} (not FAILED) or
     *     {@link ChangeResult.NotFound}
     * @throws IllegalArgumentException when {@code freshAttempts} is out of range
     * @throws dev.hourglass.core.store.InvalidDataException when the store cannot keep {@code by} (a NUL in it)
     */
    public ChangeResult retry(JobId id, int freshAttempts, String by) {
        return retry(id, null, freshAttempts, by);
    }

    /**
     * Retries by hand every FAILED job that {@code filter} selects, of every tenant, as {@link #retry(JobId, String)}
     * does one: in transactions of at most 500 jobs, each durable before the next is read, so a
     * failure part-way leaves the jobs already moved SCHEDULED. A job that fails again while this runs is not moved
     * twice (the jobs are taken in id order, once).
     *
     * @return how many jobs were moved to SCHEDULED
     */
    public int retryFailed(DeadLetterFilter filter, String by) {
        return retryFailed(null, filter, config.defaultMaxAttempts(), by);
    }

    /**
     * {@link #retryFailed(DeadLetterFilter, String)} with {@code freshAttempts} each, as in
     * {@link #retry(JobId, int, String)}.
     */
    public int retryFailed(DeadLetterFilter filter, int freshAttempts, String by) {
        return retryFailed(null, filter, freshAttempts, by);
    }

    /** The job as the store holds it now, or empty if there is none (or it was pruned after the retention). */
    public Optional<Job> getStatus(JobId id) {
        return store.find(id);
    }

    /**
     * The delivery history of a job: its recorded attempts numbered above {@code afterAttempt}, in order, at most
     * {@code limit} (1..1000). Empty for a job with none or one that does not exist.
     */
    public List<AttemptRecord> attempts(JobId id, int afterAttempt, int limit) {
        if (limit < 1 || limit > JobQuery.MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + JobQuery.MAX_LIMIT);
        }
        return store.attempts(id, afterAttempt, limit);
    }

    /**
     * The target monitor: every target's alarm, counts and pause, and pause and resume by hand; empty when targets
     * are not watched ({@link Builder#watchTargets}).
     */
    public Optional<TargetMonitor> targets() {
        return Optional.ofNullable(targetMonitor);
    }

    /** One page of jobs, in id order, filtered as {@code query} says. */
    public JobPage list(JobQuery query) {
        return store.list(query);
    }

    /**
     * The jobs of one tenant: cancel, reschedule and status of a job of another tenant answer as for one that does
     * not exist (the server's tenant isolation).
     */
    public TenantScope forTenant(String tenant) {
        return new TenantScope(this, Objects.requireNonNull(tenant, "tenant"));
    }

    /** {@link #cancel}, of a job of {@code tenant} (null: any tenant). */
    ChangeResult cancel(JobId id, String tenant) {
        ensureOpen();
        ChangeResult result = join(committer.cancel(new CancelRequest(id, tenant, wallClock.instant())));
        if (result instanceof ChangeResult.Changed changed) {
            timer.remove(id);
            metrics.jobCancelled(changed.job());
        }
        return result;
    }

    /** {@link #retry(JobId, int, String)}, of a job of {@code tenant} (null: any tenant). */
    ChangeResult retry(JobId id, String tenant, int freshAttempts, String by) {
        ensureOpen();
        Instant now = Instants.ceilMillis(wallClock.instant()); // whole ms as stored, rounded up: not due before now
        ChangeResult result = join(committer.retryFailed(new RetryRequest(id, tenant, now, freshAttempts, by, now)));
        if (result instanceof ChangeResult.Changed changed) {
            timer.remove(id); // a FAILED job has no entry; should a stale one be left, its token is now stale too
            claimSoon(changed.job().dueAt());
        }
        return result;
    }

    /** {@link #retryFailed(DeadLetterFilter, int, String)}, of the jobs of {@code tenant} (null: every tenant). */
    int retryFailed(String tenant, DeadLetterFilter filter, int freshAttempts, String by) {
        Objects.requireNonNull(filter, "filter");
        ensureOpen();
        RetryRequest.requireFreshAttempts(freshAttempts); // before anything is read
        JobQuery query = new JobQuery(tenant, JobState.FAILED, null, RETRY_BATCH, false, JobQuery.UNBOUNDED)
                .filtered(filter);
        int moved = 0;
        while (true) {
            JobPage page = store.list(query);
            if (page.jobs().isEmpty()) {
                break;
            }
            Instant now = Instants.ceilMillis(wallClock.instant());
            List<RetryRequest> batch = new ArrayList<>(page.jobs().size());
            for (Job job : page.jobs()) {
                batch.add(new RetryRequest(job.id(), tenant, now, freshAttempts, by, now));
            }
            List<ChangeResult> results = join(committer.task(Durability.FSYNC, tx -> tx.retryFailed(batch)));
            int changed = 0;
            for (ChangeResult result : results) {
                if (result instanceof ChangeResult.Changed) {
                    changed++;
                }
            }
            if (changed > 0) {
                moved += changed;
                claimSoon(now);
            }
            if (page.next() == null) {
                break;
            }
            query = query.withCursor(page.next());
        }
        return moved;
    }

    /**
     * Jobs due at {@code dueAt} were committed unowned (retried by hand): claim them now if they are due soon, on the
     * loader's thread, rather than at the next horizon round. On PostgreSQL the store also announces them to every
     * node; the claims coalesce.
     */
    private void claimSoon(Instant dueAt) {
        EarlyClaims early = earlyClaims;
        if (early != null && manualLoops == null) { // driven loops: the driver's next horizon round claims them
            early.announced(dueAt);
        }
    }

    /** {@link #reschedule}, of a job of {@code tenant} (null: any tenant). */
    ChangeResult reschedule(JobId id, String tenant, When when) {
        Objects.requireNonNull(when, "when");
        return switch (when) {
            case When.After after -> {
                submissions.validateDelay(after.delay());
                Instant now = Instants.ceilMillis(wallClock.instant()); // so that dueAt - updatedAt = delay exactly
                yield reschedule(id, tenant, now.plus(after.delay()), now);
            }
            case When.At at -> {
                Submissions.requireInRange(at.instant()); // before rounding: Instant.MAX cannot be rounded up
                yield reschedule(id, tenant, Instants.ceilMillis(at.instant()), wallClock.instant());
            }
        };
    }

    private ChangeResult reschedule(JobId id, String tenant, Instant dueAt, Instant now) {
        ensureOpen();
        submissions.validateDueAt(dueAt, now);
        String owner = ownerForDue(dueAt);
        CompletableFuture<ChangeResult> write = committer.reschedule(new RescheduleRequest(id, tenant, dueAt, owner,
                now));
        if (owner != null) {
            write.whenComplete((r, error) -> doubtIfUnconfirmed(error, id, ClaimReconciler.Cause.RESCHEDULE));
        }
        ChangeResult result = join(write);
        if (result instanceof ChangeResult.Changed changed) {
            timer.remove(id);
            if (owner != null) {
                Job j = changed.job();
                timer.add(TimerEntry.of(j, targetNames));
            }
        }
        return result;
    }

    public EngineConfig config() {
        return config;
    }

    public InstantSource wallClock() {
        return wallClock;
    }

    /**
     * What this node knows of the cluster clock (the store's), for logs and metrics; empty when the engine runs on
     * its own clock (a store without a shared clock, such as SQLite, or {@link Builder#syncClockToStore} off).
     */
    public Optional<StoreClock.Estimate> clockEstimate() {
        return clockSync == null ? Optional.empty() : Optional.of(clockSync.clock().estimate());
    }

    /** Jobs held in the in-memory timer (the near-term horizon). */
    public int timerSize() {
        return timer.size();
    }

    /**
     * False while the store cannot be reached: the latest write failed for want of a connection or an answer.
     * Schedules then fail (a {@link StoreException}) and firing pauses; both resume by themselves once it answers.
     */
    public boolean storeReachable() {
        return committer.storeReachable();
    }

    /**
     * The engine's failure, if one of its threads died (an {@link Error} such as an {@code OutOfMemoryError}): the
     * node then claims no more jobs, its timer hands none more on, and it no longer renews its lease, so other
     * nodes rescue its jobs when the lease runs out. Nothing acknowledged is lost, but this process must be
     * restarted: a health check should report it. The {@link Builder#onFatalError} handler was told once.
     */
    public Optional<EngineFailure> failure() {
        return supervision.failure();
    }

    /**
     * What a failure stops: the horizon rounds (so the lease is no longer renewed and no more jobs are claimed) and
     * the firing of what is claimed. Runs on the thread that failed, so it waits for nothing. Schedules, cancels and
     * the hand-back at {@link #close} still go through the writer, which stays up.
     */
    private void stopAfterFailure() {
        background.shutdownNow();
        timer.stop();
    }

    /**
     * True once this node has worked off every job that was due when it started: after a restart, the jobs that came
     * due while it was down and those it took over from the process before it. Until then, jobs due from now on wait
     * behind that backlog (each tenant's jobs start in due order, and the backlog's attempts fill the slots), so they
     * fire late however soon they are due. Worked off: every one of those jobs started, as many attempts ended as
     * had started by then, and no job waits for a slot more than {@link #CAUGHT_UP_LAG} after its due time (jobs
     * that came due during the catch-up are late too). Then true for good: later lateness (an overloaded node) does not turn it back. A
     * readiness check that waits for it admits traffic when firing is on time again. Safe from any thread; cheap.
     */
    public boolean caughtUp() {
        if (caughtUp) {
            return true;
        }
        long mark = backlogSlotsTaken;
        if (mark < 0) {
            long through = loader.claimedThroughMillis();
            if (through == Long.MAX_VALUE || !timer.handedOnThrough(through)
                    || dispatcher.oldestQueuedDueMillis() <= through) {
                return false;
            }
            mark = dispatcher.slotCounts().taken();
            backlogSlotsTaken = mark;
        }
        if (dispatcher.slotCounts().released() < mark
                || wallClock.millis() - dispatcher.oldestQueuedDueMillis() > CAUGHT_UP_LAG.toMillis()) {
            return false;
        }
        caughtUp = true;
        return true;
    }

    /** The monotonic clock this engine measures waits, leases and timeouts with. */
    public Ticker ticker() {
        return ticker;
    }

    /** Attempts running now. */
    public int inFlight() {
        return dispatcher.inFlight();
    }

    /**
     * Jobs that are due but not started, all tenants together: they wait for a free slot (of the engine, or of
     * their tenant under {@link Builder#tenantShares}). Above zero for long, the node cannot keep up.
     */
    public int queuedDue() {
        return dispatcher.queued();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Hourglass is shut down");
        }
    }

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new StoreException("store write failed", e.getCause());
        }
    }

    /**
     * Graceful shutdown that loses nothing: stops taking jobs, stops the timer, waits for running attempts (up to
     * the shutdown grace), then hands this node's remaining claims back to the store so that another node (or the
     * next start) fires them without waiting for the lease to expire.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        announcements.close();
        background.shutdown();
        awaitRoundInProgress();
        if (clockSync != null) {
            clockSync.close(); // the clock keeps its last estimate for the hand-back below
        }
        timer.close();
        dispatcher.close();
        delays.close(); // after the dispatcher: attempts finishing within the grace still have their watchdogs
        try {
            int released = committer.<Integer>task(Durability.FSYNC,
                    tx -> tx.release(new ReleaseParams(config.nodeId(), wallClock.instant()))).join();
            log.info("Hourglass node {} stopped; handed back {} claimed jobs", config.nodeId(), released);
        } catch (RuntimeException e) {
            log.warn("could not hand back claims at shutdown ({}); they are rescued when the lease expires",
                    e.toString());
        }
        presence.close(); // after the hand-back: until it, another node could take this node for dead
        if (targetMonitor != null) {
            targetMonitor.close(); // after the hand-back: nothing of it may delay another node's claims
        }
        committer.close();
        background.shutdownNow();
        metrics.engineStopped();
        if (closeStore) {
            store.close();
        }
    }

    /**
     * Waits, a bounded time, for a horizon round already running: a claim it commits after the hand-back below would
     * leave jobs claimed by this stopped node until its lease runs out (a claim may commit on a connection of its
     * own, beside the committer, see {@link JobStore#concurrentWrites()}).
     */
    private void awaitRoundInProgress() {
        try {
            if (!background.awaitTermination(ROUND_AT_CLOSE.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("a horizon round still runs after {} s; handing back claims without waiting for it (what it "
                        + "claims after that is rescued when this node's lease expires)", ROUND_AT_CLOSE.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Builds and starts an {@link Hourglass}. */
    public static final class Builder {
        private JobStore store;
        private boolean closeStore = true;
        private InstantSource wallClock = SystemTime.wallClock();
        private Ticker ticker = SystemTime.ticker();
        private boolean clockInjected;
        private Boolean syncClockToStore;
        private EngineConfig config = EngineConfig.defaults("node-" + UUID.randomUUID().toString().substring(0, 8));
        private EngineMetrics metrics = EngineMetrics.NOOP;
        private DeliveryListener deliveryListener = DeliveryListener.NONE;
        private boolean deliveryHistory = true;
        private TargetMonitor.Settings targetSettings;
        private Function<String, TargetPolicy> targetPolicies = tenant -> TargetPolicy.DEFAULTS;
        private TargetEventListener targetListener = event -> {};
        private TenantShares tenantShares = TenantShares.EQUAL;
        private boolean fairDispatch = true;
        private boolean manualLoops;
        private FatalErrorHandler fatalErrorHandler = FatalErrorHandler.STAY_UP;
        private final Map<String, JobHandler> handlers = new LinkedHashMap<>();

        private Builder() {}

        /** The store; closed with the scheduler unless {@code closeWithScheduler} is false. */
        public Builder store(JobStore value, boolean closeWithScheduler) {
            this.store = Objects.requireNonNull(value, "store");
            this.closeStore = closeWithScheduler;
            return this;
        }

        public Builder store(JobStore value) {
            return store(value, true);
        }

        /** Registers the handler that runs jobs scheduled with this handler name. */
        public Builder handler(String name, JobHandler handler) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(handler, "handler");
            if (handlers.putIfAbsent(name, handler) != null) {
                throw new IllegalArgumentException("a handler named '" + name + "' is already registered");
            }
            return this;
        }

        public Builder clock(InstantSource wall, Ticker monotonic) {
            this.wallClock = Objects.requireNonNull(wall, "wall");
            this.ticker = Objects.requireNonNull(monotonic, "monotonic");
            this.clockInjected = true;
            return this;
        }

        /**
         * Whether the engine times everything (due times of relative schedules, "is it due", leases) by the
         * store's clock rather than by this node's wall clock alone: it measures its offset from the store's clock
         * ({@link JobStore#readClock}) at build and every 10 s, and adds it to the wall clock. Nodes sharing a
         * store then share one clock, so none fires a job early or rescues live claims because its own clock runs
         * ahead. Without effect on a store that has no shared clock (SQLite).
         *
         * <p>Default: on, unless {@link #clock} was called (an injected clock, such as a test's
         * {@code ManualClock}, is kept as is). On with an injected clock corrects that clock.
         */
        public Builder syncClockToStore(boolean value) {
            this.syncClockToStore = value;
            return this;
        }

        boolean syncsClock() {
            return syncClockToStore != null ? syncClockToStore : !clockInjected;
        }

        public Builder config(EngineConfig value) {
            this.config = Objects.requireNonNull(value, "config");
            return this;
        }

        public Builder metrics(EngineMetrics value) {
            this.metrics = Objects.requireNonNull(value, "metrics");
            return this;
        }

        /**
         * Watches every target (a tenant's webhook origin, an in-process handler): alarms when its error rate crosses
         * its tenant's thresholds, pauses it when its tenant opted in, holds a paused target's due jobs, probes it, and
         * lets an operator pause and resume it ({@link Hourglass#targets}). Off by default.
         *
         * @param policies each tenant's thresholds and auto-pause
         * @param listener hears each change (raised, cleared, paused, resumed) once over the cluster
         */
        public Builder watchTargets(TargetMonitor.Settings settings, Function<String, TargetPolicy> policies,
                TargetEventListener listener) {
            this.targetSettings = Objects.requireNonNull(settings, "settings");
            this.targetPolicies = Objects.requireNonNull(policies, "policies");
            this.targetListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Hears how every attempt's delivery went. None by default. */
        public Builder deliveryListener(DeliveryListener value) {
            this.deliveryListener = Objects.requireNonNull(value, "deliveryListener");
            return this;
        }

        /**
         * Whether every attempt's outcome is written with a row of the delivery history ({@link #attempts}), in the
         * same transaction. On by default; off saves one row per attempt and leaves the history empty.
         */
        public Builder deliveryHistory(boolean value) {
            this.deliveryHistory = value;
            return this;
        }

        /**
         * How tenants share this node when more jobs are due than it can run at once: each tenant's weight and its
         * own limit of attempts at once (see {@link TenantShares}). Asked live, so it may follow changes at run
         * time. Default {@link TenantShares#EQUAL}: equal turns, no limit but the engine's {@code maxInFlight}.
         */
        public Builder tenantShares(TenantShares value) {
            this.tenantShares = Objects.requireNonNull(value, "tenantShares");
            return this;
        }

        /**
         * Whether due jobs start in weighted turns across tenants (true, the default: deficit round robin by
         * {@link #tenantShares} weight, under each tenant's limit) or in one FIFO across tenants (false: a burst of
         * one tenant delays every other tenant's jobs, the tenant shares are not asked, and only the engine's
         * {@code maxInFlight} limits attempts). Off is there to compare with.
         */
        public Builder fairDispatch(boolean value) {
            this.fairDispatch = value;
            return this;
        }

        /**
         * What the application does when one of the engine's threads dies ({@link Hourglass#failure()}): told once,
         * after the engine has logged it and stopped. Default {@link FatalErrorHandler#STAY_UP} (the process stays
         * up, the failure is reported by {@link Hourglass#failure()}); a process under a supervisor that restarts it
         * should pass {@link FatalErrorHandler#haltProcess}.
         */
        public Builder onFatalError(FatalErrorHandler value) {
            this.fatalErrorHandler = Objects.requireNonNull(value, "value");
            return this;
        }

        /**
         * Starts no timer, loader or delay thread: the time-driven work runs only in the steps of
         * {@link Hourglass#loops()}, which a test driver calls after moving its manual clock (see
         * {@link EngineLoops}; hourglass-testing's {@code ManualEngine} does it for you). For tests only: nothing
         * fires by itself.
         */
        public Builder manualLoops() {
            this.manualLoops = true;
            return this;
        }

        public Hourglass build() {
            if (store == null) {
                throw new IllegalStateException("a store is required: builder().store(...)");
            }
            Hourglass hourglass = new Hourglass(this);
            try {
                hourglass.start();
            } catch (RuntimeException e) {
                hourglass.close(); // stop the threads already started; nothing was acknowledged yet
                throw e;
            }
            return hourglass;
        }
    }
}
