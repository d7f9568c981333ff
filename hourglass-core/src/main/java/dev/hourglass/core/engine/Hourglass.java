package dev.hourglass.core.engine;

import dev.hourglass.core.api.InvalidJobException;
import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.time.Instants;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler, embedded. Schedules jobs durably (a call returns after the commit that holds the job), fires them
 * at their due time on the wall clock (never before), and runs each attempt through the handler registered under the
 * job's handler name, at least once.
 *
 * <pre>{@code
 * try (Hourglass hourglass = Hourglass.builder()
 *         .store(SqliteJobStore.open(Path.of("hourglass-data/hourglass.db")))
 *         .handler("send-reminder", ctx -> { mailer.send(ctx.payload()); return Outcome.succeeded(); })
 *         .build()) {
 *     hourglass.schedule(JobRequest.of("send-reminder", bytes), Duration.ofHours(24));
 * }
 * }</pre>
 *
 * <p>Threads: one group committer (the only store writer), one timer thread, one dispatcher, one loader; attempts
 * run on virtual threads.
 */
public final class Hourglass implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Hourglass.class);

    private final EngineConfig config;
    private final JobStore store;
    private final boolean closeStore;
    private final InstantSource wallClock;
    private final GroupCommitter committer;
    private final FiringLoop timer;
    private final Dispatcher dispatcher;
    private final HorizonLoader loader;
    private final Submissions submissions;
    private final ScheduledExecutorService background;
    private volatile boolean closed;

    private Hourglass(Builder b) {
        this.config = b.config.validate();
        this.store = b.store;
        this.closeStore = b.closeStore;
        this.wallClock = b.wallClock;
        JobIdGenerator ids = new JobIdGenerator(wallClock);
        store.lastJobId().ifPresent(last -> ids.advancePast(last.hi()));
        this.submissions = new Submissions(config, ids, b.handlers.keySet());
        this.committer = new GroupCommitter(store, config.commitBatch(), b.metrics, b.ticker);
        this.background = Executors.newScheduledThreadPool(1,
                Thread.ofPlatform().name("hourglass-background").daemon(true).factory());
        Dispatcher.RetryScheduler retries = new Dispatcher.RetryScheduler() {
            @Override
            public String ownerFor(Instant dueAt) {
                return ownerForDue(dueAt);
            }

            @Override
            public void retryCommitted(Job job, Instant dueAt) {
                timer.add(new TimerEntry(job.id(), dueAt.toEpochMilli(), job.fencingToken()));
            }
        };
        this.dispatcher = new Dispatcher(config, wallClock, committer, b.handlers, b.metrics, retries);
        this.timer = new FiringLoop(wallClock, dispatcher::dispatch);
        this.loader = new HorizonLoader(config, wallClock, committer, timer);
    }

    private void start() {
        committer.start();
        dispatcher.start();
        timer.start();
        // The first round runs before build() returns: after a restart, due jobs are back in the timer at once.
        loader.runRound(store.exclusive());
        long interval = config.loadInterval().toMillis();
        background.scheduleWithFixedDelay(() -> loader.runRound(false), interval, interval, TimeUnit.MILLISECONDS);
        log.info("Hourglass node {} started (horizon {}, lease {})", config.nodeId(), config.horizon(),
                config.leaseTtl());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Schedules a job to run {@code delay} from now. Returns after the job is durable. */
    public InsertResult schedule(JobRequest job, Duration delay) {
        return join(scheduleAsync(job, delay));
    }

    /** Schedules a job to run at {@code dueAt} (a past instant means now). Returns after the job is durable. */
    public InsertResult scheduleAt(JobRequest job, Instant dueAt) {
        return join(scheduleAtAsync(job, dueAt));
    }

    public CompletableFuture<InsertResult> scheduleAsync(JobRequest job, Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new InvalidJobException("delay", "must be >= 0, was " + delay);
        }
        if (delay.compareTo(config.maxDelay()) > 0) {
            throw new InvalidJobException("delay", "must be at most " + config.maxDelay().toDays() + " days");
        }
        Instant now = Instants.ceilMillis(wallClock.instant()); // so that dueAt - createdAt = delay exactly
        return submit(job, now.plus(delay), now, "delay:" + delay);
    }

    public CompletableFuture<InsertResult> scheduleAtAsync(JobRequest job, Instant dueAt) {
        Objects.requireNonNull(dueAt, "dueAt");
        return submit(job, dueAt, wallClock.instant(), "at:" + dueAt);
    }

    private CompletableFuture<InsertResult> submit(JobRequest job, Instant requestedDueAt, Instant now,
            String schedule) {
        ensureOpen();
        Instant dueAt = Instants.ceilMillis(requestedDueAt);
        NewJob newJob = submissions.toNewJob(job, dueAt, now, schedule, ownerForDue(dueAt));
        return committer.insert(newJob).thenApply(result -> {
            if (result instanceof InsertResult.Created created && newJob.owner() != null) {
                Job j = created.job();
                timer.add(new TimerEntry(j.id(), j.dueAt().toEpochMilli(), j.fencingToken()));
            }
            return result;
        });
    }

    /** This node claims a job at insert (or retry, or reschedule) when it is due inside the horizon. */
    private String ownerForDue(Instant dueAt) {
        boolean inHorizon = !dueAt.isAfter(wallClock.instant().plus(config.horizon()));
        return inHorizon && timer.size() < config.maxTimerEntries() ? config.nodeId() : null;
    }

    /** Cancels a SCHEDULED job. Exactly one of a cancel and a concurrent start wins (both are compare-and-sets). */
    public ChangeResult cancel(JobId id) {
        return cancel(id, null);
    }

    /** Cancels a job of {@code tenant} (null: any tenant). */
    public ChangeResult cancel(JobId id, String tenant) {
        ensureOpen();
        ChangeResult result = join(committer.cancel(new CancelRequest(id, tenant, wallClock.instant())));
        if (result instanceof ChangeResult.Changed) {
            timer.remove(id);
        }
        return result;
    }

    public ChangeResult reschedule(JobId id, Duration delay) {
        return reschedule(id, null, delay);
    }

    public ChangeResult reschedule(JobId id, String tenant, Duration delay) {
        if (delay.isNegative()) {
            throw new InvalidJobException("delay", "must be >= 0, was " + delay);
        }
        Instant now = Instants.ceilMillis(wallClock.instant()); // so that dueAt - updatedAt = delay exactly
        return reschedule(id, tenant, now.plus(delay), now);
    }

    public ChangeResult rescheduleAt(JobId id, Instant dueAt) {
        return rescheduleAt(id, null, dueAt);
    }

    /** Moves a SCHEDULED job to a new due time. The old claim's token is invalidated, so it cannot fire twice. */
    public ChangeResult rescheduleAt(JobId id, String tenant, Instant dueAt) {
        return reschedule(id, tenant, Instants.ceilMillis(dueAt), wallClock.instant());
    }

    private ChangeResult reschedule(JobId id, String tenant, Instant dueAt, Instant now) {
        ensureOpen();
        submissions.validateDueAt(dueAt, now);
        String owner = ownerForDue(dueAt);
        ChangeResult result = join(committer.reschedule(new RescheduleRequest(id, tenant, dueAt, owner, now)));
        if (result instanceof ChangeResult.Changed changed) {
            timer.remove(id);
            if (owner != null) {
                Job j = changed.job();
                timer.add(new TimerEntry(j.id(), j.dueAt().toEpochMilli(), j.fencingToken()));
            }
        }
        return result;
    }

    public Optional<Job> getStatus(JobId id) {
        return store.find(id);
    }

    public Optional<Job> getStatus(JobId id, String tenant) {
        return store.find(id).filter(j -> tenant == null || j.tenant().equals(tenant));
    }

    public JobPage list(JobQuery query) {
        return store.list(query);
    }

    public EngineConfig config() {
        return config;
    }

    public InstantSource wallClock() {
        return wallClock;
    }

    /** Jobs held in the in-memory timer (the near-term horizon). */
    public int timerSize() {
        return timer.size();
    }

    /** Attempts running now. */
    public int inFlight() {
        return dispatcher.inFlight();
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
        background.shutdown();
        timer.close();
        dispatcher.close();
        try {
            int released = committer.<Integer>task(Durability.FSYNC,
                    tx -> tx.release(config.nodeId(), wallClock.instant())).join();
            log.info("Hourglass node {} stopped; handed back {} claimed jobs", config.nodeId(), released);
        } catch (RuntimeException e) {
            log.warn("could not hand back claims at shutdown ({}); they are rescued when the lease expires",
                    e.toString());
        }
        committer.close();
        background.shutdownNow();
        if (closeStore) {
            store.close();
        }
    }

    /** Builds and starts an {@link Hourglass}. */
    public static final class Builder {
        private JobStore store;
        private boolean closeStore = true;
        private InstantSource wallClock = SystemTime.wallClock();
        private Ticker ticker = SystemTime.ticker();
        private EngineConfig config = EngineConfig.defaults("node-" + UUID.randomUUID().toString().substring(0, 8));
        private EngineMetrics metrics = EngineMetrics.NOOP;
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
            return this;
        }

        public Builder config(EngineConfig value) {
            this.config = Objects.requireNonNull(value, "config");
            return this;
        }

        public Builder metrics(EngineMetrics value) {
            this.metrics = Objects.requireNonNull(value, "metrics");
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
