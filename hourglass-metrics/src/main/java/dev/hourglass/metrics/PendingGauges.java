package dev.hourglass.metrics;

import dev.hourglass.core.store.DueWindow;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.PendingCount;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p>A sample is one grouped read of the SCHEDULED rows ({@link JobStore#countPending}), whose cost does grow with
 * them; so the next sample waits {@code every}, or ten times as long as the last one took if that is longer, which
 * keeps the sampler under a tenth of one core on any store. The time each sample takes is itself a meter
 * ({@code hourglass_pending_sample_duration_seconds}). A failed sample keeps the previous values.
 */
final class PendingGauges implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PendingGauges.class);
    /** How many times as long as a sample took the sampler rests before the next one. */
    private static final int REST_FACTOR = 10;

    private record WindowKey(String tenant, DueWindow window) {}

    private final MeterRegistry registry;
    private final TenantLabels tenants;
    private final Duration every;
    private final Timer sampleDuration;
    private final Map<WindowKey, AtomicLong> pending = new ConcurrentHashMap<>();
    /** Seconds of the oldest overdue job per tenant label at the last sample. */
    private final Map<String, AtomicReference<Double>> oldestOverdue = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("hourglass-metrics-pending").daemon(true).factory());
    /** Measures the samples, to space them (monotonic; the real one: the sampler is a real thread). */
    private final Ticker ticker = SystemTime.ticker();
    private volatile boolean failing;

    PendingGauges(MeterRegistry registry, TenantLabels tenants, Duration every) {
        this.registry = registry;
        this.tenants = tenants;
        this.every = every;
        this.sampleDuration = Timer.builder("hourglass.pending.sample.duration")
                .description("How long one sample of the pending-jobs gauges took (one grouped read of the store)")
                .register(registry);
    }

    /** Samples now, then in the background until closed. */
    void start(JobStore store, InstantSource wallClock) {
        sampler.execute(() -> sampleAndReschedule(store, wallClock));
    }

    private void sampleAndReschedule(JobStore store, InstantSource wallClock) {
        long started = ticker.nanoTime();
        sample(store, wallClock.instant());
        long took = ticker.nanoTime() - started;
        long delay = Math.max(every.toNanos(), REST_FACTOR * took);
        try {
            sampler.schedule(() -> sampleAndReschedule(store, wallClock), delay, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closed meanwhile: no more samples
        }
    }

    /** One sample: every gauge takes the store's count as of {@code now} (zero for what it no longer has). */
    void sample(JobStore store, Instant now) {
        List<PendingCount> counts;
        try {
            counts = sampleDuration.recordCallable(() -> store.countPending(now));
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
            if (!byKey.containsKey(key)) {
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
