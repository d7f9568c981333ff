package dev.hourglass.metrics;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.EngineView;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.supervision.Supervision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The engine's events as Micrometer meters: give it to the engine's builder and every meter of the table in
 * {@code docs/metrics.md} appears in {@code registry}.
 *
 * <pre>{@code
 * Hourglass.builder().store(store).metrics(HourglassMetrics.builder(registry).build()) ...
 * }</pre>
 *
 * <p>The {@code tenant} label is bounded ({@link TenantLabels}: the busiest {@code tenantLabels} tenants, then
 * {@value TenantLabels#OTHER}). Meters are looked up once per label combination and kept, so an event costs a map
 * lookup and an increment. The pending-jobs gauges are sampled in the background ({@link PendingGauges}).
 *
 * <p>One instance per engine: it registers the node's gauges when the engine starts and removes them when it stops.
 */
public final class HourglassMetrics implements EngineMetrics {
    /** The lateness histogram's buckets: 5 ms to an hour. */
    static final Duration[] LATENESS_BUCKETS = millis(5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000,
            30_000, 60_000, 300_000, 900_000, 3_600_000);
    /** Buckets of short waits: a delivery attempt, a schedule call, a commit. */
    static final Duration[] WAIT_BUCKETS = millis(1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000,
            30_000, 60_000);
    private static final double[] BATCH_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000};
    /** How many tenants get a {@code tenant} label of their own unless told otherwise. */
    public static final int DEFAULT_TENANT_LABELS = 100;
    /** How often the pending-jobs gauges of the near term are sampled unless told otherwise. */
    public static final Duration DEFAULT_PENDING_EVERY = Duration.ofSeconds(15);
    private static final Duration REBALANCE_EVERY = Duration.ofMinutes(1);
    /** Every how many samples of the near pending jobs all of them are counted (see {@link PendingGauges}). */
    private static final int FAR_SAMPLES_EVERY = 20;

    private record TenantTarget(String tenant, String targetType) {}

    private record AttemptKey(String tenant, String targetType, String outcome, String statusClass) {}

    private record TargetOutcome(String targetType, String outcome) {}

    private record TenantValue(String tenant, String value) {}

    private final MeterRegistry registry;
    private final String source;
    private final Function<Job, String> targetType;
    private final TenantLabels tenants;
    private final PendingGauges pendingGauges;
    private final Map<TenantValue, Counter> created = new ConcurrentHashMap<>();
    private final Map<TenantTarget, Timer> lateness = new ConcurrentHashMap<>();
    private final Map<TenantTarget, Counter> fired = new ConcurrentHashMap<>();
    private final Map<AttemptKey, Counter> attempts = new ConcurrentHashMap<>();
    private final Map<TargetOutcome, Timer> attemptDurations = new ConcurrentHashMap<>();
    private final Map<TenantValue, Counter> finished = new ConcurrentHashMap<>();
    private final Map<TenantValue, Counter> quotaRejections = new ConcurrentHashMap<>();
    private final Map<String, Counter> leaseRenewals = new ConcurrentHashMap<>();
    private final AtomicReference<Duration> clockOffset = new AtomicReference<>();
    private final AtomicReference<Duration> clockErrorBound = new AtomicReference<>();
    /** Meters that name this node or its store, registered at start and removed at stop. */
    private final List<Meter> nodeMeters = new ArrayList<>();
    private final ScheduledExecutorService rebalancer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("hourglass-metrics-labels").daemon(true).factory());
    private volatile Timer scheduleDuration;
    private volatile Timer groupCommitDuration;
    private volatile DistributionSummary groupCommitBatch;
    private volatile Timer claimDuration;
    private volatile DistributionSummary claimBatch;
    private volatile Counter claimsRescued;
    private volatile Counter claimsYielded;
    private volatile EngineView engine;

    private HourglassMetrics(Builder b) {
        this.registry = b.registry;
        this.source = b.source;
        this.targetType = b.targetType;
        this.tenants = new TenantLabels(b.tenantLabels);
        this.pendingGauges = b.pendingEvery == null ? null
                : new PendingGauges(registry, tenants, b.pendingEvery, b.pendingEvery.multipliedBy(FAR_SAMPLES_EVERY));
    }

    public static Builder builder(MeterRegistry registry) {
        return new Builder(registry);
    }

    /** The tenant labels in use, for a caller that labels meters of its own the same way. */
    public TenantLabels tenantLabels() {
        return tenants;
    }

    @Override
    public synchronized void engineStarted(EngineView engine) {
        this.engine = engine;
        String node = engine.nodeId();
        String store = engine.store().kind();
        scheduleDuration = register(Timer.builder("hourglass.schedule.duration")
                .description("From a schedule call to its durable acknowledgement (the commit that holds the job)")
                .tag("store", store).serviceLevelObjectives(WAIT_BUCKETS));
        groupCommitDuration = register(commitTimer(store, "group"));
        groupCommitBatch = register(commitBatch(store, "group"));
        claimDuration = register(commitTimer(store, "claim"));
        claimBatch = register(commitBatch(store, "claim"));
        claimsRescued = register(Counter.builder("hourglass.claims.rescued")
                .description("Jobs of nodes whose lease ran out, handed back to be claimed by this node's rounds")
                .tag("node", node));
        claimsYielded = register(Counter.builder("hourglass.claims.yielded")
                .description("Claims this node handed back for other nodes to take: it held over its fair share")
                .tag("node", node));
        for (LeaseRenewal result : LeaseRenewal.values()) {
            leaseRenewals.put(result.label(), register(Counter.builder("hourglass.lease.renewals")
                    .description("Lease renewals of this node, by result").tag("node", node)
                    .tag("result", result.label())));
        }
        nodeMeters.add(Gauge.builder("hourglass.timer.entries", engine, EngineView::timerEntries)
                .description("Jobs held in this node's in-memory timer (the near-term horizon)")
                .register(registry));
        nodeMeters.add(Gauge.builder("hourglass.store.up", engine, e -> e.storeReachable() ? 1 : 0)
                .description("1 while the store answers, 0 while it cannot be reached").register(registry));
        nodeMeters.add(Gauge.builder("hourglass.clock.offset", clockOffset, HourglassMetrics::seconds)
                .description("The store's clock minus this node's wall clock (NaN before the first measurement "
                        + "and on a store without a clock)")
                .baseUnit("seconds").tag("node", node).register(registry));
        nodeMeters.add(Gauge.builder("hourglass.clock.error.bound", clockErrorBound, HourglassMetrics::seconds)
                .description("How far the clock offset may be off (half the measuring round trip)")
                .baseUnit("seconds").tag("node", node).register(registry));
        if (pendingGauges != null) {
            pendingGauges.start(engine.store(), engine.wallClock());
        }
        long every = REBALANCE_EVERY.toMillis();
        rebalancer.scheduleWithFixedDelay(Supervision.reportingErrors("tenant labels", tenants::rebalance), every,
                every, TimeUnit.MILLISECONDS);
    }

    private <M extends Meter> M register(Object builder) {
        Meter meter = switch (builder) {
            case Timer.Builder t -> t.register(registry);
            case Counter.Builder c -> c.register(registry);
            case DistributionSummary.Builder d -> d.register(registry);
            default -> throw new IllegalArgumentException("not a meter builder: " + builder);
        };
        nodeMeters.add(meter);
        @SuppressWarnings("unchecked")
        M typed = (M) meter;
        return typed;
    }

    private static Timer.Builder commitTimer(String store, String kind) {
        return Timer.builder("hourglass.store.commit.duration")
                .description("One store transaction of the engine: a group commit, or a horizon claim beside it")
                .tag("store", store).tag("kind", kind).serviceLevelObjectives(WAIT_BUCKETS);
    }

    private static DistributionSummary.Builder commitBatch(String store, String kind) {
        return DistributionSummary.builder("hourglass.store.commit.batch.size")
                .description("Operations (group) or jobs claimed (claim) in one store transaction")
                .tag("store", store).tag("kind", kind).serviceLevelObjectives(BATCH_BUCKETS);
    }

    /**
     * Samples the pending-jobs gauges now, all windows, on the caller's thread (they are otherwise sampled in the
     * background): for tests and tools that want the gauges to show a state they just made.
     */
    public void samplePending() {
        samplePending(true);
    }

    /**
     * Samples the pending-jobs gauges now, on the caller's thread: all windows, or only the jobs due within the hour
     * (the near windows, as the background sampler does between samples of all jobs).
     */
    public void samplePending(boolean all) {
        EngineView view = engine;
        if (pendingGauges != null && view != null) {
            pendingGauges.sample(view.store(), view.wallClock().instant(), all);
        }
    }

    @Override
    public synchronized void engineStopped() {
        rebalancer.shutdownNow();
        if (pendingGauges != null) {
            pendingGauges.close();
        }
        nodeMeters.forEach(registry::remove);
        nodeMeters.clear();
    }

    @Override
    public void jobCreated(Job job, Duration durableAfter) {
        String tenant = tenants.of(job.tenant());
        created.computeIfAbsent(new TenantValue(tenant, source), k -> Counter.builder("hourglass.jobs.scheduled")
                .description("Jobs created by schedule calls (not repeats of an idempotency key)")
                .tag("tenant", k.tenant()).tag("source", k.value()).register(registry)).increment();
        // The meters of the job's first attempt are made now, off the firing path: making a meter takes the
        // registry's lock (and the map's entry), and the first attempts of a tenant due together would queue on it,
        // each behind the others, before their deliveries (seen as a second of lateness on a node's first burst).
        TenantTarget firing = new TenantTarget(tenant, targetType.apply(job));
        latenessOf(firing);
        firedOf(firing);
        Timer timer = scheduleDuration;
        if (durableAfter != null && timer != null) {
            timer.record(durableAfter);
        }
    }

    /** The longest duration a timer takes (it records nanoseconds in a long): about 292 years. */
    private static final Duration LONGEST_RECORDABLE = Duration.ofNanos(Long.MAX_VALUE);

    /**
     * Lateness as a timer can take it: none for negative, at most {@link #LONGEST_RECORDABLE}. A job due in year 1
     * (valid input) starts about 2,000 years late, and the timer would throw on it in the attempt's thread.
     */
    static Duration recordable(Duration late) {
        if (late.isNegative()) {
            return Duration.ZERO;
        }
        return late.compareTo(LONGEST_RECORDABLE) > 0 ? LONGEST_RECORDABLE : late;
    }

    @Override
    public void attemptStarted(Job job, Duration late) {
        TenantTarget key = new TenantTarget(tenants.of(job.tenant()), targetType.apply(job));
        latenessOf(key).record(recordable(late));
        firedOf(key).increment();
    }

    private Timer latenessOf(TenantTarget key) {
        Timer timer = lateness.get(key);
        return timer != null ? timer : lateness.computeIfAbsent(key, k -> Timer.builder("hourglass.fire.lateness")
                .description("How long after its due time (wall clock) each attempt started")
                .tag("tenant", k.tenant()).tag("target_type", k.targetType())
                .serviceLevelObjectives(LATENESS_BUCKETS).register(registry));
    }

    private Counter firedOf(TenantTarget key) {
        Counter counter = fired.get(key);
        return counter != null ? counter : fired.computeIfAbsent(key, k -> Counter.builder("hourglass.jobs.fired")
                .description("Attempts started (each fire of a job, first attempts and retries)")
                .tag("tenant", k.tenant()).tag("target_type", k.targetType()).register(registry));
    }

    @Override
    public void deliveryAttempted(Job job, DeliveryAttempt attempt) {
        String outcome = attempt.outcome().label();
        attempts.computeIfAbsent(new AttemptKey(tenants.of(job.tenant()), attempt.targetType(), outcome,
                attempt.statusClass()), k -> Counter.builder("hourglass.delivery.attempts")
                        .description("Delivery attempts by outcome")
                        .tag("tenant", k.tenant()).tag("target_type", k.targetType()).tag("outcome", k.outcome())
                        .tag("status_class", k.statusClass()).register(registry)).increment();
        attemptDurations.computeIfAbsent(new TargetOutcome(attempt.targetType(), outcome),
                k -> Timer.builder("hourglass.delivery.attempt.duration")
                        .description("How long each delivery attempt took")
                        .tag("target_type", k.targetType()).tag("outcome", k.outcome())
                        .serviceLevelObjectives(WAIT_BUCKETS).register(registry))
                .record(attempt.duration());
    }

    @Override
    public void attemptFinished(Job job, JobState state) {
        if (state.isTerminal()) {
            finish(job, state);
        }
    }

    @Override
    public void jobCancelled(Job job) {
        finish(job, JobState.CANCELLED);
    }

    private void finish(Job job, JobState state) {
        String result = state.name().toLowerCase(Locale.ROOT);
        finished.computeIfAbsent(new TenantValue(tenants.of(job.tenant()), result),
                k -> Counter.builder("hourglass.jobs.finished")
                        .description("Jobs that reached a terminal state, by result")
                        .tag("tenant", k.tenant()).tag("result", k.value()).register(registry)).increment();
    }

    /** A schedule or reschedule was refused by its tenant's quota {@code quota} (the admin API's name). */
    public void quotaRejected(String tenant, String quota) {
        quotaRejections.computeIfAbsent(new TenantValue(tenants.of(tenant), quota),
                k -> Counter.builder("hourglass.quota.rejections")
                        .description("Schedules and reschedules refused by a tenant quota (HTTP 429)")
                        .tag("tenant", k.tenant()).tag("quota", k.value()).register(registry)).increment();
    }

    @Override
    public void committed(int operations, long nanos) {
        record(groupCommitDuration, groupCommitBatch, operations, nanos);
    }

    @Override
    public void claimCommitted(int claimed, long nanos) {
        record(claimDuration, claimBatch, claimed, nanos);
    }

    private static void record(Timer timer, DistributionSummary batch, int size, long nanos) {
        if (timer != null) {
            timer.record(nanos, TimeUnit.NANOSECONDS);
            batch.record(size);
        }
    }

    @Override
    public void claimsRescued(int count) {
        Counter counter = claimsRescued;
        if (counter != null) {
            counter.increment(count);
        }
    }

    @Override
    public void claimsYielded(int count) {
        Counter counter = claimsYielded;
        if (counter != null) {
            counter.increment(count);
        }
    }

    @Override
    public void leaseRenewal(LeaseRenewal result) {
        Counter counter = leaseRenewals.get(result.label());
        if (counter != null) {
            counter.increment();
        }
    }

    @Override
    public void clockOffset(Duration offset, Duration errorBound) {
        clockOffset.set(offset);
        clockErrorBound.set(errorBound);
    }

    private static double seconds(AtomicReference<Duration> value) {
        Duration d = value.get();
        return d == null ? Double.NaN : d.toNanos() / 1e9;
    }

    private static Duration[] millis(long... values) {
        Duration[] durations = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            durations[i] = Duration.ofMillis(values[i]);
        }
        return durations;
    }

    /** Options of the binding; {@link #build()} gives one binding for one engine. */
    public static final class Builder {
        private final MeterRegistry registry;
        private String source = "library";
        private Function<Job, String> targetType = job -> DeliveryAttempt.IN_PROCESS;
        private int tenantLabels = DEFAULT_TENANT_LABELS;
        private Duration pendingEvery = DEFAULT_PENDING_EVERY;

        private Builder(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /**
         * The {@code source} label of {@code hourglass_jobs_scheduled_total} for schedules made through this engine's
         * calls: {@code library} (the default) or {@code api} (the server's HTTP API).
         */
        public Builder source(String value) {
            this.source = Objects.requireNonNull(value, "source");
            return this;
        }

        /** The {@code target_type} label of a job (lateness, fired): default {@code in_process} for every job. */
        public Builder targetType(Function<Job, String> value) {
            this.targetType = Objects.requireNonNull(value, "targetType");
            return this;
        }

        /** How many tenants get a {@code tenant} label of their own (default 100); the rest are {@code other}. */
        public Builder tenantLabels(int value) {
            if (value < 0) {
                throw new IllegalArgumentException("tenantLabels must be >= 0, was " + value);
            }
            this.tenantLabels = value;
            return this;
        }

        /**
         * How often the pending-jobs gauges of the jobs due within the hour are sampled from the store (default
         * 15 s; all jobs, the far windows too, every 20 samples; a sample that takes long spaces the next ones
         * further, see {@link PendingGauges}); null turns the gauges off.
         */
        public Builder pendingEvery(Duration value) {
            if (value != null && (value.isNegative() || value.isZero())) {
                throw new IllegalArgumentException("pendingEvery must be positive, was " + value);
            }
            this.pendingEvery = value;
            return this;
        }

        public HourglassMetrics build() {
            return new HourglassMetrics(this);
        }
    }
}
