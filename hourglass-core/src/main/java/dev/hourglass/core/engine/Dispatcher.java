package dev.hourglass.core.engine;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns due timer entries into attempts: starts them in the store (SCHEDULED -> RUNNING, a compare-and-set on the
 * claim), runs each started job's handler on a virtual thread, and records the outcome (RUNNING -> ...). Due entries
 * wait in a {@link FairDispatchQueue}, which decides which tenant's job starts next and counts the slots: at most
 * {@code maxInFlight} attempts run at once, and no more of one tenant than its own limit. A slot is taken before the
 * start write, so that a job never sits in RUNNING waiting for a worker, and freed when the attempt is over: the
 * start failed or was refused, the outcome was stored or refused, or it was given up at shutdown.
 *
 * <p>Timeouts are measured on the engine's ticker (monotonic, {@link Delays}), never the wall clock.
 *
 * <p>When the store fails (an outage): a start that fails leaves the job claimed by this node, so it goes to the
 * {@link ClaimReconciler}, which puts it back in the timer (or runs it, if the start was committed after all) once
 * the store answers; firing pauses meanwhile. An outcome that cannot be written is written again, with backoff on the
 * monotonic clock, until the store takes it or says the claim was lost; the attempt keeps its worker permit
 * meanwhile, because it is not over until its outcome is stored.
 *
 * <p>Nothing starts while this node's lease may have run out (an outage longer than the lease TTL, on a shared
 * store): another node may then rescue the node's claims at any moment, a job it just started too, and run it
 * again. Due entries are parked with the {@link ClaimReconciler} instead, and go back into the timer once the lease
 * is renewed; claims rescued meanwhile then fail their start (the fencing token), so each of them runs once.
 */
final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    /** Backoff of an outcome write that failed: doubling from this, on the monotonic clock... */
    private static final long OUTCOME_RETRY_FIRST_MILLIS = 100;
    /** ...up to this, so that outcomes are written within seconds of the store's return. */
    private static final long OUTCOME_RETRY_MAX_MILLIS = 2_000;
    /** How the failure that replaces a refused outcome begins: such a failure is never replaced again. */
    private static final String REFUSED_OUTCOME = "the store refused the outcome (";

    private final EngineConfig config;
    private final InstantSource wallClock;
    private final GroupCommitter committer;
    private final Map<String, JobHandler> handlers;
    private final EngineMetrics metrics;
    /** Hears of every attempt's delivery (the target monitor). */
    private final DeliveryListener deliveries;
    /** Whether each outcome is written with its attempt's row in the delivery history. */
    private final boolean recordHistory;
    /** Names each attempt's target (cached per distinct target). */
    private final TargetNames targetNames;
    /** Holds the due jobs of paused targets; asked before every start. */
    private final TargetGate gate;
    private final RetryScheduler retries;
    private final ClaimReconciler reconciler;
    /** Due entries not started yet, and the slots of running attempts. */
    private final FairDispatchQueue queue;
    /** Whether this node's lease still holds; see the class comment. */
    private final BooleanSupplier leaseHeld;
    private final ExecutorService workers = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("hourglass-attempt-", 0).factory());
    /** Attempt watchdogs and outcome-write retries, on the engine's ticker (monotonic). */
    private final Delays delays;
    private final Thread thread;
    private volatile boolean running = true;

    /** Where a retry that stays within this node's horizon goes back into the timer. */
    interface RetryScheduler {
        /** Returns the owner to store with the retry (this node if it keeps the claim, else null). */
        String ownerFor(Instant dueAt);

        void retryCommitted(Job job, Instant dueAt);
    }

    /**
     * @param reconciler where a job goes whose start or outcome write was not confirmed by the store
     * @param queue where due entries wait for a slot; its engine-wide limit should be {@code config.maxInFlight()}
     * @param leaseHeld whether this node's lease still holds: nothing starts while it does not
     * @param delays where attempt timeouts and outcome-write retries wait; open until this dispatcher is closed
     * @param deliveries hears of every attempt's delivery, on the attempt's thread (or the watchdog's)
     * @param recordHistory whether outcomes are written with their attempt's row in the delivery history
     * @param targetNames names each attempt's target (for the history and the monitor)
     */
    Dispatcher(EngineConfig config, InstantSource wallClock, GroupCommitter committer,
            Map<String, JobHandler> handlers, EngineMetrics metrics, RetryScheduler retries,
            ClaimReconciler reconciler, FairDispatchQueue queue, BooleanSupplier leaseHeld, Delays delays,
            DeliveryListener deliveries, boolean recordHistory, TargetNames targetNames) {
        this.config = config;
        this.wallClock = wallClock;
        this.committer = committer;
        this.handlers = Map.copyOf(handlers);
        this.metrics = metrics;
        this.deliveries = deliveries;
        this.recordHistory = recordHistory;
        this.targetNames = targetNames;
        this.gate = new TargetGate(this::dispatch);
        this.retries = retries;
        this.reconciler = reconciler;
        this.delays = delays;
        this.queue = queue;
        this.leaseHeld = leaseHeld;
        this.thread = Thread.ofPlatform().name("hourglass-dispatcher").daemon(true).unstarted(this::run);
    }

    void start() {
        start(null);
    }

    /** Starts the thread; what escapes its loop (an {@link Error}) goes to {@code supervisor}. */
    void start(Thread.UncaughtExceptionHandler supervisor) {
        thread.setUncaughtExceptionHandler(supervisor);
        thread.start();
    }

    /**
     * Called by the timer thread with entries that are due; never waits for a slot, only for the queue's lock, which
     * is held for short non-blocking work.
     */
    void dispatch(List<TimerEntry> due) {
        queue.addAll(due);
    }

    int inFlight() {
        return queue.inFlight();
    }

    /** Due entries waiting for a slot. */
    int queued() {
        return queue.queued();
    }

    /** Slots of attempts taken and released since the start. */
    FairDispatchQueue.SlotCounts slotCounts() {
        return queue.slotCounts();
    }

    /** The earliest due time among the entries waiting for a slot, or {@link Long#MAX_VALUE} when none waits. */
    long oldestQueuedDueMillis() {
        return queue.oldestQueuedDueMillis();
    }

    /** Where paused targets' due jobs are held. */
    TargetGate gate() {
        return gate;
    }

    private void run() {
        while (running) {
            try {
                // As many as there are free slots, up to one commit's worth, to start them in one write.
                for (TimerEntry entry : queue.take(config.commitBatch(), 50, TimeUnit.MILLISECONDS)) {
                    startAttempt(entry);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("dispatcher loop error; continuing", e);
            }
        }
    }

    private void startAttempt(TimerEntry entry) {
        if (!leaseHeld.getAsBoolean()) {
            queue.release(entry.tenant());
            reconciler.park(entry, "this node's lease ran out");
            return;
        }
        if (!gate.admit(entry)) {
            queue.release(entry.tenant()); // held for its paused target: the gate hands it back when it may start
            return;
        }
        StartRun run = new StartRun(entry.id(), config.nodeId(), entry.fencingToken(), wallClock.instant());
        committer.start(run).whenComplete((started, error) -> {
            if (error != null) {
                log.debug("could not start job {}: {}", entry.id(), error.toString());
                queue.release(entry.tenant());
                gate.notStarted(entry);
                // Out of the timer but still claimed by this node: the reconciler fires it once the store answers.
                if (error instanceof StoreUnavailableException u && u.outcomeUnknown()) {
                    // Perhaps RUNNING here after all, with no attempt running: the store must be asked.
                    reconciler.doubt(new ClaimReconciler.Doubt(entry.id(), ClaimReconciler.Cause.START,
                            entry.fencingToken()));
                } else {
                    reconciler.park(entry, "the store failed"); // not applied: SCHEDULED, same claim and token
                }
            } else if (started.isEmpty()) {
                // Cancelled, rescheduled or re-claimed since it was loaded: the store said no, so we do nothing;
                // unless a start of ours whose answer was lost landed late (the reconciler knows).
                queue.release(entry.tenant());
                gate.notStarted(entry);
                reconciler.startRefused(entry);
            } else if (!leaseHeld.getAsBoolean()) {
                // Sent while the lease held, committed perhaps after it ran out (a write held up in a broken
                // network): another node may be rescuing the job right now. The reconciler runs it once the lease
                // is renewed, if it is still RUNNING here under this token; if another node took it, that one runs it.
                queue.release(entry.tenant());
                gate.notStarted(entry);
                reconciler.doubt(new ClaimReconciler.Doubt(entry.id(), ClaimReconciler.Cause.START,
                        entry.fencingToken()));
            } else {
                try {
                    workers.execute(() -> runAttempt(started.get()));
                } catch (RejectedExecutionException closing) {
                    // Closed: RUNNING with no attempt, handed back with this node's other claims (runs again).
                    queue.release(entry.tenant());
                    gate.notStarted(entry);
                }
            }
        });
    }

    /**
     * Runs an attempt whose start the store committed without this node hearing of it (found by the reconciler).
     * Returns false, to be asked again later, when no worker is free or the dispatcher is closing.
     */
    boolean resume(Job job) {
        if (!running || !queue.tryTakeSlot(job.tenant())) {
            return false;
        }
        try {
            workers.execute(() -> runAttempt(job));
            return true;
        } catch (RejectedExecutionException closing) {
            queue.release(job.tenant());
            return false;
        }
    }

    private void runAttempt(Job job) {
        try (JobLogContext logged = JobLogContext.open(job)) {
            runAttemptLogged(job);
        }
    }

    private void runAttemptLogged(Job job) {
        Instant startedAt = wallClock.instant();
        metrics.attemptStarted(job, Duration.between(job.dueAt(), startedAt));
        // Exactly one of the handler's return and the watchdog records the outcome.
        AtomicBoolean finished = new AtomicBoolean();
        Thread worker = Thread.currentThread();
        Duration timeout = job.timeout() != null ? job.timeout() : config.defaultTimeout();
        JobHandler handler = handlers.get(job.handler());
        AttemptDelivery delivery = new AttemptDelivery(job, handler, targetNames.of(job), startedAt,
                delays.ticker().nanoTime());
        Delays.Delayed watchdog = startWatchdog(() -> {
            if (finished.compareAndSet(false, true)) {
                worker.interrupt();
                Outcome timedOut = new Outcome.Retry(null, "timed out after " + timeout.toMillis() + " ms");
                record(job, timedOut, delivered(job, delivery, delivery.timedOut(delays.ticker()), timedOut));
            }
        }, timeout);
        Outcome outcome = invoke(job, handler, delivery);
        watchdog.cancel();
        if (finished.compareAndSet(false, true)) {
            record(job, outcome, delivered(job, delivery, delivery.returned(outcome, delays.ticker()), outcome));
        }
        Thread.interrupted(); // clear a late interrupt so the virtual thread ends clean
    }

    /**
     * Tells the metrics and the delivery listener how the attempt's delivery went, and returns its history row
     * (null when the history is off).
     */
    private AttemptRecord delivered(Job job, AttemptDelivery delivery, DeliveryAttempt attempt, Outcome outcome) {
        metrics.deliveryAttempted(job, attempt);
        gate.attemptEnded(job.tenant(), attempt.target(), job.id(),
                attempt.outcome() == DeliveryAttempt.Result.SUCCESS);
        try {
            deliveries.delivered(job, attempt);
        } catch (RuntimeException e) {
            log.warn("delivery listener failed on job {}: {}", job.id(), e.toString());
        }
        return recordHistory ? delivery.record(attempt, outcome, config.nodeId(), wallClock.instant()) : null;
    }

    private Delays.Delayed startWatchdog(Runnable onTimeout, Duration timeout) {
        try {
            return delays.schedule(onTimeout, timeout);
        } catch (RejectedExecutionException shuttingDown) {
            return () -> false; // past the shutdown grace: no watchdog any more
        }
    }

    /** Runs {@code handler} (the one registered under the job's handler name, null if none is). */
    private Outcome invoke(Job job, JobHandler handler, AttemptDelivery delivery) {
        if (handler == null) {
            return Outcome.failed("no handler named '" + job.handler() + "' is registered on this node");
        }
        try {
            Outcome outcome = handler.handle(new JobContext(job, delivery));
            return outcome != null ? outcome : Outcome.failed("handler returned null");
        } catch (InterruptedException e) {
            return Outcome.retry("interrupted");
        } catch (Exception | LinkageError | AssertionError e) {
            return Outcome.retry(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /**
     * Writes the outcome (RUNNING -> next state) with the attempt's history row, if any, then frees the attempt's
     * slot.
     */
    private void record(Job job, Outcome outcome, AttemptRecord attempt) {
        Instant now = wallClock.instant();
        FinishRun finish = switch (outcome) {
            case Outcome.Succeeded s -> finish(job, JobState.SUCCEEDED, job.dueAt(), null, null, now);
            case Outcome.Failed f -> finish(job, JobState.FAILED, job.dueAt(), null, f.reason(), now);
            case Outcome.Cancelled c -> finish(job, JobState.CANCELLED, job.dueAt(), null, c.reason(), now);
            case Outcome.Retry r -> retryOrFail(job, r, now);
        };
        writeOutcome(job, attempt == null ? finish : withAttempt(finish, job.tenant(), attempt), 0);
    }

    private static FinishRun withAttempt(FinishRun f, String tenant, AttemptRecord attempt) {
        return new FinishRun(f.id(), f.owner(), f.fencingToken(), f.to(), f.dueAt(), f.nextOwner(), f.error(), f.now(),
                tenant, attempt);
    }

    /**
     * Writes an outcome; on a store failure tries again after a backoff, until the store takes it ({@code won}) or
     * refuses it (the claim was lost). Frees the attempt's slot only then.
     *
     * @param failures how many earlier writes of this outcome failed
     */
    private void writeOutcome(Job job, FinishRun finish, int failures) {
        // Answered on the committer's thread: the lines about this job carry its log context there too.
        committer.finish(finish).whenComplete(JobLogContext.around(job, (won, error) -> {
            if (error instanceof InvalidDataException refused) {
                refusedOutcome(job, finish, failures, refused);
                return;
            }
            if (error != null) {
                retryOutcome(job, finish, failures + 1, error);
                return;
            }
            if (won && finish.to() == JobState.FAILED) {
                try {
                    deliveries.jobFailed(job, finish.error());
                } catch (RuntimeException e) {
                    log.warn("delivery listener failed on failed job {}: {}", job.id(), e.toString());
                }
            }
            if (won) {
                if (failures > 0) {
                    log.info("recorded the outcome of job {} attempt {} after {} failed writes", job.id(),
                            job.attempts(), failures);
                }
                metrics.attemptFinished(job, finish.to());
                if (finish.to() == JobState.SCHEDULED && finish.nextOwner() != null) {
                    retries.retryCommitted(job, finish.dueAt());
                }
            }
            // After the retry's timer entry: an engine with no slot taken has nothing in flight (EngineLoops.idle).
            queue.release(job.tenant());
            if (won) {
                return;
            }
            if (failures == 0) {
                log.warn("job {} attempt {}: claim lost before the outcome was recorded (fencing token {} is "
                        + "stale); the outcome is discarded", job.id(), job.attempts(), job.fencingToken());
                metrics.claimLost(job);
            } else {
                // Either the claim was lost meanwhile, or an earlier write was committed and only its answer lost.
                // In the second case a retry kept on this node is claimed here but not in the timer: reconcile it.
                log.info("job {} attempt {}: the outcome was refused after {} failed writes (the claim was lost, or "
                        + "an earlier write was committed)", job.id(), job.attempts(), failures);
                if (finish.nextOwner() != null) {
                    reconciler.doubt(ClaimReconciler.Doubt.of(job.id(), ClaimReconciler.Cause.FINISH));
                }
            }
        }));
    }

    /**
     * The store refused a value of the outcome (a retry due beyond the instants it can keep): writing it again cannot
     * succeed, so the attempt fails the job instead, saying why. Should even that be refused, the slot is freed and
     * the job stays RUNNING until its claim is rescued; never a write retried forever.
     */
    private void refusedOutcome(Job job, FinishRun finish, int failures, InvalidDataException refused) {
        if (finish.to() == JobState.FAILED && finish.error() != null && finish.error().startsWith(REFUSED_OUTCOME)) {
            log.error("job {} attempt {}: the store refused even the failure that replaces a refused outcome ({}); "
                    + "it stays RUNNING until its claim is rescued", job.id(), job.attempts(), refused.getMessage());
            queue.release(job.tenant());
            return;
        }
        log.warn("job {} attempt {}: the store refused its outcome ({}); recording it as FAILED", job.id(),
                job.attempts(), refused.getMessage());
        writeOutcome(job, finish(job, JobState.FAILED, job.dueAt(), null,
                REFUSED_OUTCOME + refused.getMessage() + ")", finish.now()), failures);
    }

    private void retryOutcome(Job job, FinishRun finish, int failures, Throwable error) {
        long delayMillis = Math.min(OUTCOME_RETRY_MAX_MILLIS,
                OUTCOME_RETRY_FIRST_MILLIS << Math.min(failures - 1, 16));
        if (failures == 1) {
            log.warn("could not record the outcome of job {} attempt {}: {}; writing it again until the store "
                    + "takes it", job.id(), job.attempts(), error.toString());
        }
        try {
            delays.schedule(() -> writeOutcome(job, finish, failures), Duration.ofMillis(delayMillis));
        } catch (RejectedExecutionException closed) {
            // Past the shutdown grace: the claim is handed back (or rescued) and the job runs again.
            queue.release(job.tenant());
            log.warn("job {} attempt {}: outcome not recorded before shutdown; it will run again", job.id(),
                    job.attempts());
        }
    }

    private FinishRun retryOrFail(Job job, Outcome.Retry retry, Instant now) {
        if (job.attemptsExhausted()) {
            return finish(job, JobState.FAILED, job.dueAt(), null,
                    retry.reason() + " (attempt " + job.attempts() + " of " + job.maxAttempts() + ")", now);
        }
        Duration delay = retry.after() != null
                ? retry.after()
                : job.backoff().delayAfter(job.attempts(), ThreadLocalRandom.current().nextDouble());
        Instant dueAt = now.plus(delay);
        return finish(job, JobState.SCHEDULED, dueAt, retries.ownerFor(dueAt), retry.reason(), now);
    }

    private FinishRun finish(Job job, JobState to, Instant dueAt, String nextOwner, String error, Instant now) {
        return new FinishRun(job.id(), config.nodeId(), job.fencingToken(), to, dueAt, nextOwner, error, now);
    }

    /**
     * Stops taking new attempts and waits up to {@code grace} for running ones to record their outcome. Entries that
     * were due but not started stay claimed in the store; the engine hands them back.
     */
    @Override
    public void close() {
        running = false;
        queue.clear();
        try {
            thread.join(5_000);
            // Waits on the monotonic clock (a condition's awaitNanos).
            if (!queue.awaitIdle(config.shutdownGrace())) {
                log.warn("{} attempts still running after the shutdown grace; they will run again elsewhere",
                        inFlight());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
    }
}
