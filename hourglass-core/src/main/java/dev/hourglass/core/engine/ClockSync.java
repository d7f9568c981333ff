package dev.hourglass.core.engine;

import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.supervision.Supervision;
import dev.hourglass.core.time.StoreClock;
import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an engine on its store's clock (the cluster clock): the first sample when the engine is built, before any
 * component reads the time, then one every {@link #INTERVAL}. Reports each estimate to the metrics, logs the first
 * at INFO, and warns (at most every {@link #WARN_EVERY}) while this node's clock is more than {@link #WARN_ABOVE}
 * off: the engine is right regardless, but other software on the host is not.
 *
 * <p>Samples run on a thread of their own: a round trip held up for the store's socket timeout must not hold up
 * the loader's heartbeat, which shares no thread with it.
 */
final class ClockSync implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClockSync.class);

    static final Duration INTERVAL = Duration.ofSeconds(10);
    /**
     * Samples taken back to back at build: the first round trip may open a connection or run cold code, and a
     * slow one is a loose bound; the best of a few is sub-millisecond on a LAN.
     */
    static final int START_SAMPLES = 3;
    static final Duration WARN_ABOVE = Duration.ofMillis(100);
    static final Duration WARN_EVERY = Duration.ofMinutes(10);

    private final StoreClock clock;
    private final JobStore store;
    private final Ticker ticker;
    private final EngineMetrics metrics;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("hourglass-clock").daemon(true).factory());
    /** Guarded by {@code this}, as are the samples' reports. */
    private boolean reported;
    private long lastWarnNanos;
    private boolean warned;

    private ClockSync(StoreClock clock, JobStore store, Ticker ticker, EngineMetrics metrics) {
        this.clock = clock;
        this.store = store;
        this.ticker = ticker;
        this.metrics = metrics;
    }

    /**
     * Measures {@code store}'s clock once. Empty if the store has no clock shared by several nodes: the engine
     * then keeps {@code base}. If the store cannot be reached now, the engine runs on {@code base} (offset zero)
     * until a later sample succeeds.
     */
    static Optional<ClockSync> measure(JobStore store, InstantSource base, Ticker ticker, EngineMetrics metrics) {
        StoreClock clock = new StoreClock(base, ticker, store::readClock);
        ClockSync sync = new ClockSync(clock, store, ticker, metrics);
        try {
            Optional<StoreClock.Estimate> estimate = Optional.empty();
            for (int i = 0; i < START_SAMPLES; i++) {
                estimate = clock.sample();
                if (estimate.isEmpty()) {
                    sync.close();
                    return Optional.empty();
                }
            }
            sync.report(estimate.get());
        } catch (RuntimeException e) {
            log.warn("cannot read the clock of {} at start ({}); timing by this node's clock until a read succeeds",
                    store, e.toString());
        }
        return Optional.of(sync);
    }

    /** The cluster clock, for every component of the engine. */
    StoreClock clock() {
        return clock;
    }

    /** Samples every {@link #INTERVAL} until {@link #close}. */
    void start(Supervision supervision) {
        long every = INTERVAL.toMillis();
        thread.scheduleWithFixedDelay(supervision.supervised("clock sample", this::sampleQuietly), every, every,
                TimeUnit.MILLISECONDS);
    }

    private void sampleQuietly() {
        try {
            clock.sample().ifPresent(this::report);
        } catch (RuntimeException e) {
            // The store's outage is reported by the writes; the previous estimate stays meanwhile.
            log.debug("cannot read the clock of {}: {}", store, e.toString());
        }
    }

    /** To the metrics, and to the log the first time and while this node's clock is far off. */
    private synchronized void report(StoreClock.Estimate estimate) {
        metrics.clockOffset(estimate.measured(), estimate.errorBound());
        if (!reported) {
            reported = true;
            log.info("clock of {}: {} ms {} this node's (±{} ms); Hourglass times jobs and leases by it "
                    + "(correction applied: {} ms)", store, millis(estimate.measured().abs()),
                    estimate.measured().isNegative() ? "behind" : "ahead of", millis(estimate.errorBound()),
                    millis(estimate.applied()));
        }
        boolean far = estimate.measured().abs().compareTo(WARN_ABOVE) > 0;
        long now = ticker.nanoTime();
        if (far && (!warned || now - lastWarnNanos >= WARN_EVERY.toNanos())) {
            warned = true;
            lastWarnNanos = now;
            // measured = store - node: a negative offset means this node is ahead.
            log.warn("this node's clock is {} ms {} the clock of {} (±{} ms); Hourglass times jobs and leases by the "
                    + "store's clock, but check NTP on this host", millis(estimate.measured().abs()),
                    estimate.measured().isNegative() ? "ahead of" : "behind", store, millis(estimate.errorBound()));
        }
    }

    private static String millis(Duration d) {
        return String.format(Locale.ROOT, "%.1f", d.toNanos() / 1e6);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
