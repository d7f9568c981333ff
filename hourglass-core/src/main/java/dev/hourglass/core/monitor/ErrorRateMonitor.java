package dev.hourglass.core.monitor;

import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Error rates of many sources over a sliding window, from a stream of {@link MonitorEvent}s. Memory is bounded: at
 * most {@link MonitorConfig#maxSources()} sources, each a fixed ring of {@link MonitorConfig#bucketCount()} bucket
 * counts plus a few fields (the last error message is cut to {@value #MAX_MESSAGE_CHARS} characters).
 *
 * <p><b>Two clocks.</b> An event's own {@code eventTime} decides its bucket and its weight in the moving average. The
 * injected {@link InstantSource} decides "now": which buckets are in the window, what is late, and when stats are
 * taken. An event ahead of now is treated as happening at now. An event whose bucket has already left the window at
 * now ({@code eventTime < windowStart(now)}) is <i>late</i>: dropped whole (it changes no count, average or streak,
 * and creates no source) and counted in {@link #lateEvents()}. If the clock steps back, an event whose ring slot
 * still holds a newer bucket is late too: a slot is never written over by an older bucket.
 *
 * <p><b>Moving average.</b> Per source, the error rate weighted by event time: an attempt of age {@code a} (at the
 * latest event time seen) weighs {@code e^(-a/τ)}, τ = {@link MonitorConfig#averageTimeConstant()}. It is kept as
 * two decayed sums at a reference time, the latest event time: an event at {@code t >= ref} decays both sums by
 * {@code e^(-(t-ref)/τ)}, moves ref to t and adds 1; an event at {@code t < ref} adds {@code e^(-(ref-t)/τ)}. The
 * sums, hence the average, do not depend on arrival order (up to rounding).
 *
 * <p><b>Rebuilding.</b> Replaying past events through {@link #record} gives the same bucket counts and average in any
 * order, for the events still in the window when replayed. Consecutive failures are in arrival order, so a replay
 * should feed events in the order they happened for that one figure to match.
 *
 * <p><b>Sources.</b> Beyond {@code maxSources}, the least recently recorded source is forgotten (counted in
 * {@link #evictedSources()}). Reading stats does not count as a use.
 *
 * <p><b>Threads.</b> Safe from any thread. One lock guards the map and every source's state; it is held for O(1)
 * work per event and O(sources × buckets) per {@link #allStats()}. The clock is read before taking it.
 */
public final class ErrorRateMonitor {
    /** The most characters of an error message kept per source. */
    public static final int MAX_MESSAGE_CHARS = 512;

    private final MonitorConfig config;
    private final InstantSource clock;
    private final ReentrantLock lock = new ReentrantLock();
    /** In order of last record, least recent first (insertion order, kept by removing and putting again). */
    private final LinkedHashMap<String, SourceWindow> sources = new LinkedHashMap<>();
    private long lateEvents;
    private long evictedSources;

    public ErrorRateMonitor(MonitorConfig config, InstantSource clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public MonitorConfig config() {
        return config;
    }

    /** Counts {@code event} in its source's window, or counts it as late (see the class comment). */
    public void record(MonitorEvent event) {
        Objects.requireNonNull(event, "event");
        long nowMillis = clock.millis();
        long from = config.windowStartMillis(nowMillis);
        // Compare as instants before converting: an event far from now may not fit in epoch milliseconds.
        Instant at = event.eventTime();
        if (at.isBefore(Instant.ofEpochMilli(from))) {
            lock.lock();
            try {
                lateEvents++;
            } finally {
                lock.unlock();
            }
            return;
        }
        long t = at.isAfter(Instant.ofEpochMilli(nowMillis)) ? nowMillis : at.toEpochMilli();
        long bucketStart = config.bucketStartMillis(t);
        lock.lock();
        try {
            SourceWindow window = sources.get(event.source()); // get does not reorder an insertion-ordered map
            if (window == null) {
                evictBeyond(config.maxSources() - 1);
                window = new SourceWindow(config);
            } else if (!window.accepts(bucketStart)) {
                lateEvents++;
                return;
            } else {
                sources.remove(event.source()); // put again below: now the most recently recorded
            }
            sources.put(event.source(), window);
            window.add(t, bucketStart, event.isError(), event.message());
        } finally {
            lock.unlock();
        }
    }

    /** Forgets the least recently recorded sources until at most {@code keep} remain. Lock held. */
    private void evictBeyond(int keep) {
        Iterator<Map.Entry<String, SourceWindow>> it = sources.entrySet().iterator();
        while (sources.size() > keep && it.hasNext()) {
            it.next();
            it.remove();
            evictedSources++;
        }
    }

    /** The source's figures at the clock's now; empty if it was never recorded, or was evicted. */
    public Optional<SourceStats> stats(String source) {
        long nowMillis = clock.millis();
        long from = config.windowStartMillis(nowMillis);
        long to = config.bucketStartMillis(nowMillis);
        lock.lock();
        try {
            SourceWindow window = sources.get(source);
            return window == null ? Optional.empty() : Optional.of(window.stats(source, from, to));
        } finally {
            lock.unlock();
        }
    }

    /** Every source's figures at the clock's now, ordered by source. Includes sources with nothing left in the window. */
    public List<SourceStats> allStats() {
        long nowMillis = clock.millis();
        long from = config.windowStartMillis(nowMillis);
        long to = config.bucketStartMillis(nowMillis);
        List<SourceStats> all;
        lock.lock();
        try {
            all = new ArrayList<>(sources.size());
            for (Map.Entry<String, SourceWindow> e : sources.entrySet()) {
                all.add(e.getValue().stats(e.getKey(), from, to));
            }
        } finally {
            lock.unlock();
        }
        all.sort(Comparator.comparing(SourceStats::source));
        return all;
    }

    /**
     * The source's non-empty buckets in the window at the clock's now, oldest first; empty if the source is unknown.
     * {@link WindowTotals#sum} over them gives the same total and errors as {@link #stats}.
     */
    public List<BucketCount> buckets(String source) {
        long nowMillis = clock.millis();
        long from = config.windowStartMillis(nowMillis);
        long to = config.bucketStartMillis(nowMillis);
        lock.lock();
        try {
            SourceWindow window = sources.get(source);
            return window == null ? List.of() : window.buckets(from, to);
        } finally {
            lock.unlock();
        }
    }

    /** Events dropped because their bucket was no longer in the window. */
    public long lateEvents() {
        return locked(() -> lateEvents);
    }

    /** Sources forgotten to stay within {@code maxSources}. */
    public long evictedSources() {
        return locked(() -> evictedSources);
    }

    /** Sources currently kept. */
    public int sourceCount() {
        return locked(() -> sources.size());
    }

    private <T> T locked(java.util.function.Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }
}
