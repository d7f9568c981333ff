package dev.hourglass.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.monitor.MonitorEvent.Level;
import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Judging buckets merged from several nodes the way one node judges its own. */
class WindowTotalsTest {
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");
    private static final MonitorConfig CONFIG =
            new MonitorConfig(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(2), 100);

    private static Instant min(int minutes) {
        return T0.plus(Duration.ofMinutes(minutes));
    }

    @Test
    void sumsTheBucketsInTheWindowAtNowAndAddsRowsOfTheSameStart() {
        List<BucketCount> rows = List.of(
                new BucketCount(min(1), 3, 1), // node 1
                new BucketCount(min(2), 2, 2),
                new BucketCount(min(1), 4, 0), // node 2, same bucket
                new BucketCount(min(5), 1, 1),
                new BucketCount(min(0), 10, 10), // left the window
                new BucketCount(min(6), 7, 7)); // ahead of now
        WindowTotals sum = WindowTotals.sum(rows, min(5).plusSeconds(59), CONFIG);
        assertThat(sum).isEqualTo(new WindowTotals(10, 4));
        assertThat(sum.errorRate()).isEqualTo(0.4);
        assertThat(WindowTotals.sum(List.of(), min(5), CONFIG)).isEqualTo(new WindowTotals(0, 0));
        assertThat(new WindowTotals(0, 0).errorRate()).isZero();
    }

    @Test
    void mergedBucketsOfTwoNodesMatchOneMonitorThatSawEveryEvent() {
        ManualClock clock = new ManualClock(min(7));
        ErrorRateMonitor node1 = new ErrorRateMonitor(CONFIG, clock);
        ErrorRateMonitor node2 = new ErrorRateMonitor(CONFIG, clock);
        ErrorRateMonitor all = new ErrorRateMonitor(CONFIG, clock);
        for (int i = 0; i < 40; i++) {
            MonitorEvent e = new MonitorEvent(
                    "t", min(2).plusSeconds(i * 9L), i % 4 == 1 ? Level.ERROR : Level.INFO, null);
            (i % 3 == 0 ? node1 : node2).record(e);
            all.record(e);
        }
        List<BucketCount> merged = new ArrayList<>(node1.buckets("t"));
        merged.addAll(node2.buckets("t"));
        SourceStats one = all.stats("t").orElseThrow();
        WindowTotals sum = WindowTotals.sum(merged, clock.instant(), CONFIG);
        assertThat(sum.total()).isEqualTo(one.total());
        assertThat(sum.errors()).isEqualTo(one.errors());
        // Later, as buckets leave the window, both still agree.
        clock.advance(Duration.ofMinutes(2));
        SourceStats later = all.stats("t").orElseThrow();
        WindowTotals laterSum = WindowTotals.sum(merged, clock.instant(), CONFIG);
        assertThat(laterSum.total()).isEqualTo(later.total()).isLessThan(sum.total()).isPositive();
        assertThat(laterSum.errors()).isEqualTo(later.errors());
    }

    @Test
    void refusesABucketCutWithAnotherWidth() {
        assertThatThrownBy(() -> WindowTotals.sum(List.of(new BucketCount(min(1).plusSeconds(30), 1, 0)), min(2), CONFIG))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a multiple of the bucket width");
        assertThatThrownBy(() -> WindowTotals.sum(List.of(new BucketCount(min(1).plusNanos(1), 1, 0)), min(2), CONFIG))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void countsMustBeConsistent() {
        assertThatThrownBy(() -> new BucketCount(T0, 1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BucketCount(T0, -1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WindowTotals(3, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Evaluation(3, 4, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Evaluation(3, 1, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
