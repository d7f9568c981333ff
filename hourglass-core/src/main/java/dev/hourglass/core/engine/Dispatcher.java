package dev.hourglass.core.engine;

import dev.hourglass.core.api.JobContext;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.StartRun;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns due timer entries into attempts: starts them in the store (SCHEDULED -> RUNNING, a compare-and-set on the
 * claim), runs each started job's handler on a virtual thread, and records the outcome (RUNNING -> ...). At most
 * {@code maxInFlight} attempts run at once; a permit is taken before the start write so that a job never sits in
 * RUNNING waiting for a worker.
 *
 * <p>Timeouts are measured on the monotonic clock (a scheduled executor), never the wall clock.
 */
final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final EngineConfig config;
    private final InstantSource wallClock;
    private final GroupCommitter committer;
    private final Map<String, JobHandler> handlers;
    private final EngineMetrics metrics;
    private final RetryScheduler retries;
    private final Semaphore permits;
    private final LinkedBlockingQueue<TimerEntry> ready = new LinkedBlockingQueue<>();
    private final ExecutorService workers = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("hourglass-attempt-", 0).factory());
    /** Watchdogs for attempt timeouts (monotonic). Cancelled watchdogs are removed at once, not left to expire. */
    private final ScheduledThreadPoolExecutor timeouts;
    private final Thread thread;
    private volatile boolean running = true;

    /** Where a retry that stays within this node's horizon goes back into the timer. */
    interface RetryScheduler {
        /** Returns the owner to store with the retry (this node if it keeps the claim, else null). */
        String ownerFor(Instant dueAt);

        void retryCommitted(Job job, Instant dueAt);
    }

    Dispatcher(EngineConfig config, InstantSource wallClock, GroupCommitter committer,
            Map<String, JobHandler> handlers, EngineMetrics metrics, RetryScheduler retries) {
        this.config = config;
        this.wallClock = wallClock;
        this.committer = committer;
        this.handlers = Map.copyOf(handlers);
        this.metrics = metrics;
        this.retries = retries;
        this.timeouts = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("hourglass-timeouts").daemon(true).factory());
        this.timeouts.setRemoveOnCancelPolicy(true);
        this.permits = new Semaphore(config.maxInFlight());
        this.thread = Thread.ofPlatform().name("hourglass-dispatcher").daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /** Called by the timer thread with entries that are due; never blocks it. */
    void dispatch(List<TimerEntry> due) {
        ready.addAll(due);
    }

    int inFlight() {
        return config.maxInFlight() - permits.availablePermits();
    }

    private void run() {
        List<TimerEntry> batch = new ArrayList<>();
        while (running || !ready.isEmpty()) {
            try {
                TimerEntry first = ready.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                permits.acquire();
                batch.add(first);
                // Take as many more as there are free workers, to start them in one write.
                while (batch.size() < config.commitBatch() && permits.tryAcquire()) {
                    TimerEntry next = ready.poll();
                    if (next == null) {
                        permits.release();
                        break;
                    }
                    batch.add(next);
                }
                for (TimerEntry entry : batch) {
                    startAttempt(entry);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("dispatcher loop error; continuing", e);
            } finally {
                batch.clear();
            }
        }
    }

    private void startAttempt(TimerEntry entry) {
        StartRun run = new StartRun(entry.id(), config.nodeId(), entry.fencingToken(), wallClock.instant());
        committer.start(run).whenComplete((started, error) -> {
            if (error != null) {
                log.warn("could not start job {}: {}; its claim will be rescued", entry.id(), error.toString());
                permits.release();
            } else if (started.isEmpty()) {
                // Cancelled, rescheduled or re-claimed since it was loaded: the store said no, so we do nothing.
                permits.release();
            } else {
                workers.execute(() -> runAttempt(started.get()));
            }
        });
    }

    private void runAttempt(Job job) {
        Instant startedAt = wallClock.instant();
        metrics.attemptStarted(job, Duration.between(job.dueAt(), startedAt));
        // Exactly one of the handler's return and the watchdog records the outcome.
        AtomicBoolean finished = new AtomicBoolean();
        Thread worker = Thread.currentThread();
        Duration timeout = job.timeout() != null ? job.timeout() : config.defaultTimeout();
        Future<?> watchdog = startWatchdog(() -> {
            if (finished.compareAndSet(false, true)) {
                worker.interrupt();
                record(job, new Outcome.Retry(null, "timed out after " + timeout.toMillis() + " ms"));
            }
        }, timeout);
        Outcome outcome = invoke(job);
        watchdog.cancel(false);
        if (finished.compareAndSet(false, true)) {
            record(job, outcome);
        }
        Thread.interrupted(); // clear a late interrupt so the virtual thread ends clean
    }

    private Future<?> startWatchdog(Runnable onTimeout, Duration timeout) {
        try {
            return timeouts.schedule(onTimeout, timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            return CompletableFuture.completedFuture(null); // past the shutdown grace: no watchdog any more
        }
    }

    private Outcome invoke(Job job) {
        JobHandler handler = handlers.get(job.handler());
        if (handler == null) {
            return Outcome.failed("no handler named '" + job.handler() + "' is registered on this node");
        }
        try {
            Outcome outcome = handler.handle(new JobContext(job));
            return outcome != null ? outcome : Outcome.failed("handler returned null");
        } catch (InterruptedException e) {
            return Outcome.retry("interrupted");
        } catch (Exception | LinkageError | AssertionError e) {
            return Outcome.retry(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** Writes the outcome (RUNNING -> next state), then frees the worker permit. */
    private void record(Job job, Outcome outcome) {
        Instant now = wallClock.instant();
        FinishRun finish = switch (outcome) {
            case Outcome.Succeeded s -> finish(job, JobState.SUCCEEDED, job.dueAt(), null, null, now);
            case Outcome.Failed f -> finish(job, JobState.FAILED, job.dueAt(), null, f.reason(), now);
            case Outcome.Cancelled c -> finish(job, JobState.CANCELLED, job.dueAt(), null, c.reason(), now);
            case Outcome.Retry r -> retryOrFail(job, r, now);
        };
        committer.finish(finish).whenComplete((won, error) -> {
            permits.release();
            if (error != null) {
                log.warn("could not record the outcome of job {} attempt {}: {}; it will run again", job.id(),
                        job.attempts(), error.toString());
            } else if (!won) {
                log.warn("job {} attempt {}: claim lost before the outcome was recorded (fencing token {} is "
                        + "stale); the outcome is discarded", job.id(), job.attempts(), job.fencingToken());
                metrics.claimLost(job);
            } else {
                metrics.attemptFinished(job, finish.to());
                if (finish.to() == JobState.SCHEDULED && finish.nextOwner() != null) {
                    retries.retryCommitted(job, finish.dueAt());
                }
            }
        });
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
        ready.clear();
        try {
            thread.join(5_000);
            // All permits free = no attempt running. Waits on the monotonic clock inside the semaphore.
            if (permits.tryAcquire(config.maxInFlight(), config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                permits.release(config.maxInFlight());
            } else {
                log.warn("{} attempts still running after the shutdown grace; they will run again elsewhere",
                        inFlight());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
        timeouts.shutdownNow();
    }
}
