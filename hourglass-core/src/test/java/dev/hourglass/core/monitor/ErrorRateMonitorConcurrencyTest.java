package dev.hourglass.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.hourglass.core.monitor.MonitorEvent.Level;
import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Several threads record at once while another reads: no event is lost or counted twice. */
class ErrorRateMonitorConcurrencyTest {
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");
    private static final int THREADS = 6;
    private static final int PER_THREAD = 20_000;
    private static final int SOURCES = 4;

    @Test
    void concurrentRecordsGiveExactTotals() throws Exception {
        MonitorConfig config = new MonitorConfig(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(2), 100);
        ManualClock clock = new ManualClock(T0.plus(Duration.ofMinutes(4)));
        ErrorRateMonitor monitor = new ErrorRateMonitor(config, clock);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
        CountDownLatch start = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int th = 0; th < THREADS; th++) {
                int thread = th;
                writers.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < PER_THREAD; i++) {
                        monitor.record(event(thread, i));
                    }
                    return null;
                }));
            }
            Future<?> reader = pool.submit(() -> {
                start.await();
                while (!done.get()) {
                    for (SourceStats s : monitor.allStats()) {
                        assertThat(s.errors()).isBetween(0L, s.total());
                    }
                }
                return null;
            });
            start.countDown();
            for (Future<?> w : writers) {
                w.get();
            }
            done.set(true);
            reader.get();
        } finally {
            pool.shutdownNow();
        }

        long perSource = (long) THREADS * PER_THREAD / SOURCES;
        assertThat(monitor.allStats()).hasSize(SOURCES);
        for (int src = 0; src < SOURCES; src++) {
            SourceStats s = monitor.stats("s" + src).orElseThrow();
            assertThat(s.total()).isEqualTo(perSource);
            assertThat(s.errors()).isEqualTo(perSource / 5); // every 5th event of a source is an error
            assertThat(monitor.buckets("s" + src).stream().mapToLong(BucketCount::total).sum()).isEqualTo(perSource);
            assertThat(s.movingAverage()).isCloseTo(expectedAverage(src), within(1e-9));
        }
        assertThat(monitor.lateEvents()).isZero();
        assertThat(monitor.evictedSources()).isZero();
    }

    /**
     * Event {@code i} of a thread: source i % 4, at one of 240 seconds of the window, an error when (i / 4) % 5 is
     * 0. Every thread sends the same stream, so each source gets an exact fifth of errors.
     */
    private static MonitorEvent event(int thread, int i) {
        int n = i / SOURCES;
        Level level = n % 5 == 0 ? Level.ERROR : Level.INFO;
        return new MonitorEvent("s" + (i % SOURCES), T0.plusSeconds(n % 240), level, "t" + thread);
    }

    /** The e^(-age/τ)-weighted error share of one source's events, from the definition. */
    private static double expectedAverage(int source) {
        double errors = 0;
        double total = 0;
        long ref = T0.plusSeconds(239).toEpochMilli();
        for (int thread = 0; thread < THREADS; thread++) {
            for (int i = source; i < PER_THREAD; i += SOURCES) {
                MonitorEvent e = event(thread, i);
                double w = Math.exp(-(ref - e.eventTime().toEpochMilli()) / 120_000.0);
                total += w;
                if (e.isError()) {
                    errors += w;
                }
            }
        }
        return errors / total;
    }
}
