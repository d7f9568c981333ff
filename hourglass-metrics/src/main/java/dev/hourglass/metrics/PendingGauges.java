package dev.hourglass.metrics;

import dev.hourglass.core.store.DueWindow;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.PendingCount;
import dev.hourglass.core.store.PendingCountParams;
import dev.hourglass.core.supervision.Supervision;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pending-jobs gauges ({@code hourglass_jobs_pending{tenant, due_window}} and
 * {@code hourglass_oldest_overdue_age_seconds{tenant}}), sampled from the store in the background: a scrape reads
 * the last sample and never touches the store, so its cost does not grow with the number of pending jobs.
 *
 * <p>Two kinds of sample ({@link JobStore#countPending}). Every {@code every}: the jobs due within the hour
 * ({@value #NEAR_HOURS} h), overdue ones included, which update the {@code overdue}, {@code lt_1m} and {@code lt_1h}
 * windows: their cost is the near-term jobs, whatever the store holds beyond them, so the overdue gauges an alert
 * reads stay fresh. Every {@code farEvery}: all SCHEDULED jobs, which also update
 * {@code lt_1d} and {@code ge_1d}; that one grows with the store (10^7 jobs take seconds). After each sample the
 * next of its kind waits at least fifty times as long as it took, which keeps the sampler under 2 % of a core on
 * any store. The samples' times are a meter ({@code hourglass_pending_sample_duration_seconds{range}}). A failed
 * sample keeps the previous values.
 */
final class PendingGauges implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PendingGauges.class);
    /** How many times as long as a sample took the sampler rests before the next one of its kind. */
    private static final int REST_FACTOR = 50;
    /** The near sample counts the jobs due within this many hours (the windows up to {@code lt_1h}). */
    static final int NEAR_HOURS = 1;
    private static final Set<DueWindow> NEAR_WINDOWS = EnumSet.of(DueWindow.OVERDUE, DueWindow.LT_1M,
            DueWindow.LT_1H);

    private record WindowKey(String tenant, DueWindow window) {}

    private final MeterRegistry registry;
    private final TenantLabels tenants;
    private final Duration every;
    private final Duration farEvery;
    private final Timer nearDuration;
    private final Timer allDuration;
    /** When the next sample of all jobs is due, on {@link #ticker}; touched by the sampler thread only. */
    private long nextAllNanos;
    private final Map<WindowKey, AtomicLong> pending = new ConcurrentHashMap<>();
    /** Seconds of the oldest overdue job per tenant label at the last sample. */
    private final Map<String, AtomicReference<Double>> oldestOverdue = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("hourglass-metrics-pending").daemon(true).factory());
    /** Measures the samples, to space them (monotonic; the real one: the sampler is a real thread). */
    private final Ticker ticker = SystemTime.ticker();
    private volatile boolean failing;

    PendingGauges(MeterRegistry registry, TenantLabels tenants, Duration every, Duration farEvery) {
        this.registry = registry;
        this.tenants = tenants;
        this.every = every;
        this.farEvery = farEvery;
        this.nearDuration = sampleTimer(registry, "near");
        this.allDuration = sampleTimer(registry, "all");
    }

    private static Timer sampleTimer(MeterRegistry registry, String range) {
        return Timer.builder("hourglass.pending.sample.duration")
                .description("How long one sample of the pending-jobs gauges took: the jobs due within the hour "
                        + "(near) or all of them (all)")
                .tag("range", range)
                .register(registry);
    }

    /** Samples now, then in the background until closed. */
    void start(JobStore store, InstantSource wallClock) {
        sampler.execute(() -> sampleAndReschedule(store, wallClock));
    }

    private void sampleAndReschedule(JobStore store, InstantSource wallClock) {
        long started = ticker.nanoTime();
        boolean all = started - nextAllNanos >= 0;
        sample(store, wallClock.instant(), all);
        long took = ticker.nanoTime() - started;
        if (all) {
            nextAllNanos = started + Math.max(farEvery.toNanos(), REST_FACTOR * took);
        }
        long delay = Math.max(every.toNanos(), REST_FACTOR * took);
        try {
            sampler.schedule(Supervision.reportingErrors("pending-jobs sample",
                    () -> sampleAndReschedule(store, wallClock)), delay, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closed meanwhile: no more samples
        }
    }

    /**
     * One sample: the gauges of the windows it covers (all of them, or the near ones) take the store's count as of
     * {@code now}, zero for what the store no longer has.
     */
    void sample(JobStore store, Instant now, boolean all) {
        List<PendingCount> counts;
        PendingCountParams params = all ? PendingCountParams.all(now)
                : PendingCountParams.dueUntil(now, now.plus(Duration.ofHours(NEAR_HOURS)));
        try {
            counts = (all ? allDuration : nearDuration).recordCallable(() -> store.countPending(params));
        } catch (UnsupportedOperationException unsupported) {
            log.info("pending-jobs gauges off: {}", unsupported.getMessage());
            sampler.shutdown();
            return;
        } catch (Exception e) {
            if (!failing) {
                log.warn("could not count pending jobs for the gauges ({}); they keep their last values until the "
                        + "store answers", e.toString());
                failing = true;
            }
            return;
        }
        failing = false;
        Map<WindowKey, Long> byKey = new HashMap<>();
        Map<String, Instant> oldest = new HashMap<>();
        for (PendingCount count : counts) {
            String tenant = tenants.of(count.tenant(), count.count());
            byKey.merge(new WindowKey(tenant, count.window()), count.count(), Long::sum);
            if (count.window() == DueWindow.OVERDUE) {
                oldest.merge(tenant, count.oldestDueAt(), (a, b) -> a.isBefore(b) ? a : b);
            }
        }
        for (Map.Entry<WindowKey, Long> e : byKey.entrySet()) {
            gaugeOf(e.getKey()).set(e.getValue());
        }
        pending.forEach((key, value) -> {
            if (!byKey.containsKey(key) && (all || NEAR_WINDOWS.contains(key.window()))) {
                value.set(0);
            }
        });
        for (Map.Entry<String, Instant> e : oldest.entrySet()) {
            double seconds = Math.max(0, Duration.between(e.getValue(), now).toNanos() / 1e9);
            ageOf(e.getKey()).set(seconds);
        }
        oldestOverdue.forEach((tenant, value) -> {
            if (!oldest.containsKey(tenant)) {
                value.set(0.0);
            }
        });
    }

    /** A tenant's gauges, all five windows and the age, registered together the first time it is seen. */
    private AtomicLong gaugeOf(WindowKey key) {
        AtomicLong existing = pending.get(key);
        if (existing != null) {
            return existing;
        }
        for (DueWindow window : DueWindow.values()) {
            pending.computeIfAbsent(new WindowKey(key.tenant(), window), k -> {
                AtomicLong value = new AtomicLong();
                Gauge.builder("hourglass.jobs.pending", value, AtomicLong::get)
                        .description("SCHEDULED jobs by when they are due (overdue: due and not started)")
                        .tag("tenant", k.tenant()).tag("due_window", k.window().label())
                        .register(registry);
                return value;
            });
        }
        ageOf(key.tenant());
        return pending.get(key);
    }

    private AtomicReference<Double> ageOf(String tenant) {
        return oldestOverdue.computeIfAbsent(tenant, t -> {
            AtomicReference<Double> value = new AtomicReference<>(0.0);
            Gauge.builder("hourglass.oldest.overdue.age", value, AtomicReference::get)
                    .description("How long the oldest overdue job of the tenant had been due, at the last sample")
                    .baseUnit("seconds")
                    .tag("tenant", t)
                    .register(registry);
            return value;
        });
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
