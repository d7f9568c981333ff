package dev.hourglass.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.hourglass.core.monitor.MonitorEvent.Level;
import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The monitor's counts, average and bookkeeping for scripted streams, on a manual clock. One-minute buckets in a
 * five-minute window (five slots per source), τ = two minutes. Expected averages are worked out here from the
 * definition, each event weighing e^(-age/τ) at the latest event time.
 */
class ErrorRateMonitorTest {
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");
    private static final Duration MINUTE = Duration.ofMinutes(1);
    private static final double TAU_MINUTES = 2.0;
    private static final MonitorConfig CONFIG =
            new MonitorConfig(MINUTE, Duration.ofMinutes(5), Duration.ofMinutes(2), 3);
    private static final double EPS = 1e-12;

    private final ManualClock clock = new ManualClock(T0);
    private final ErrorRateMonitor monitor = new ErrorRateMonitor(CONFIG, clock);

    private static Instant at(Duration offset) {
        return T0.plus(offset);
    }

    private static Instant min(double minutes) {
        return T0.plusMillis(Math.round(minutes * 60_000));
    }

    private void record(String source, Instant t, Level level) {
        monitor.record(new MonitorEvent(source, t, level, level + "@" + t));
    }

    /** The weight of an event {@code ageMinutes} before the reference time. */
    private static double w(double ageMinutes) {
        return Math.exp(-ageMinutes / TAU_MINUTES);
    }

    private SourceStats stats(String source) {
        return monitor.stats(source).orElseThrow();
    }

    private void setNow(Instant now) {
        clock.setWall(now);
    }

    @Test
    void scriptedStreamGivesExactCountsAverageAndLastError() {
        setNow(min(4.5));
        record("a", min(0), Level.INFO);
        record("a", min(1), Level.ERROR);
        record("a", min(1.5), Level.ERROR);
        record("a", min(2), Level.WARN);
        record("a", min(4), Level.ERROR);

        SourceStats s = stats("a");
        assertThat(s.source()).isEqualTo("a");
        assertThat(s.total()).isEqualTo(5);
        assertThat(s.errors()).isEqualTo(3);
        assertThat(s.errorRate()).isEqualTo(0.6);
        // Ages at the latest event (minute 4): 4, 3, 2.5, 2, 0.
        double errors = w(3) + w(2.5) + w(0);
        double total = w(4) + w(3) + w(2.5) + w(2) + w(0);
        assertThat(s.movingAverage()).isCloseTo(errors / total, within(EPS));
        assertThat(s.consecutiveFailures()).isEqualTo(1);
        assertThat(s.lastError()).isEqualTo("ERROR@" + min(4));
        assertThat(s.lastErrorAt()).isEqualTo(min(4));
        assertThat(s.lastSeen()).isEqualTo(min(4));
        assertThat(monitor.buckets("a")).containsExactly(
                new BucketCount(min(0), 1, 0),
                new BucketCount(min(1), 2, 2),
                new BucketCount(min(2), 1, 0),
                new BucketCount(min(4), 1, 1));
        assertThat(monitor.lateEvents()).isZero();
    }

    @Test
    void averageOfASingleEventAndOfNoneAndAfterALongGap() {
        setNow(min(4));
        assertThat(monitor.stats("a")).isEmpty();
        record("a", min(0), Level.ERROR);
        assertThat(stats("a").movingAverage()).isEqualTo(1.0);
        record("a", min(4), Level.INFO);
        assertThat(stats("a").movingAverage()).isCloseTo(w(4) / (w(4) + 1), within(EPS));

        // Hours later one success all but erases the old error: its weight is e^-300 of the new one's.
        setNow(T0.plus(Duration.ofMinutes(600)));
        record("a", T0.plus(Duration.ofMinutes(600)), Level.INFO);
        assertThat(stats("a").movingAverage()).isCloseTo(0.0, within(1e-100));
        assertThat(stats("a").total()).isEqualTo(1);
    }

    @Test
    void theAverageStaysWhenTheSourceGoesQuietButTheWindowEmpties() {
        setNow(min(0));
        record("a", min(0), Level.ERROR);
        record("a", min(0), Level.INFO);
        setNow(min(30));
        SourceStats s = stats("a");
        assertThat(s.total()).isZero();
        assertThat(s.errors()).isZero();
        assertThat(s.errorRate()).isZero();
        assertThat(s.movingAverage()).isEqualTo(0.5);
        assertThat(monitor.buckets("a")).isEmpty();
    }

    @Test
    void outOfOrderEventsInsideTheWindowCountAsIfInOrder() {
        setNow(min(4.5));
        record("a", min(4), Level.ERROR);
        record("a", min(1), Level.INFO);
        record("a", min(2), Level.ERROR);

        SourceStats s = stats("a");
        assertThat(s.total()).isEqualTo(3);
        assertThat(s.errors()).isEqualTo(2);
        assertThat(s.movingAverage()).isCloseTo((w(0) + w(2)) / (w(0) + w(3) + w(2)), within(EPS));
        // Consecutive failures follow arrival order: E, I, E.
        assertThat(s.consecutiveFailures()).isEqualTo(1);
        // The last error is the latest by event time, not the last to arrive.
        assertThat(s.lastErrorAt()).isEqualTo(min(4));
        assertThat(s.lastError()).isEqualTo("ERROR@" + min(4));
        assertThat(s.lastSeen()).isEqualTo(min(4));
        assertThat(monitor.buckets("a")).containsExactly(
                new BucketCount(min(1), 1, 0), new BucketCount(min(2), 1, 1), new BucketCount(min(4), 1, 1));
    }

    @Test
    void bucketBoundariesAtTheStartOneMillisecondBeforeAndAtTheWindowsEdge() {
        setNow(min(5)); // now's bucket starts at 5; the window holds buckets 1..5
        record("a", min(1), Level.ERROR); // the window's oldest instant: in
        record("a", min(1).minusMillis(1), Level.ERROR); // one ms older: late
        record("a", min(5).minusMillis(1), Level.INFO); // last ms of bucket 4
        record("a", min(5), Level.INFO); // first ms of bucket 5
        assertThat(monitor.lateEvents()).isEqualTo(1);
        assertThat(monitor.buckets("a")).containsExactly(
                new BucketCount(min(1), 1, 1), new BucketCount(min(4), 1, 0), new BucketCount(min(5), 1, 0));

        setNow(min(6).minusMillis(1)); // still in bucket 5: bucket 1 is still in
        assertThat(stats("a").total()).isEqualTo(3);
        setNow(min(6)); // bucket 1 leaves
        assertThat(stats("a").total()).isEqualTo(2);
        assertThat(stats("a").errors()).isZero();
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(4), 1, 0), new BucketCount(min(5), 1, 0));
    }

    @Test
    void aSlotReusedAfterTheWindowPassedStartsFromZero() {
        setNow(min(0));
        record("a", min(0), Level.ERROR);
        record("a", min(0), Level.ERROR);
        // Minute 5 maps to the same slot as minute 0 in a ring of five.
        setNow(min(5));
        record("a", min(5), Level.INFO);
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(5), 1, 0));
        record("a", min(5.5), Level.ERROR);
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(5), 2, 1));

        // Long after, every slot is stale; each is reset as it is reused.
        setNow(min(123));
        record("a", min(123), Level.INFO);
        record("a", min(120), Level.ERROR);
        SourceStats s = stats("a");
        assertThat(s.total()).isEqualTo(2);
        assertThat(s.errors()).isEqualTo(1);
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(120), 1, 1), new BucketCount(min(123), 1, 0));
    }

    @Test
    void lateEventsAreCountedAndDroppedWholeNeverPutInAnotherBucket() {
        setNow(min(10)); // window: buckets 6..10
        record("a", min(10), Level.INFO);
        // Minute 5 (and 5.999) share minute 10's slot; they must not land in it.
        record("a", min(5), Level.ERROR);
        record("a", min(6).minusMillis(1), Level.ERROR);
        record("a", min(2), Level.ERROR);
        record("b", min(1), Level.ERROR); // a late event creates no source
        record("a", Instant.MIN, Level.ERROR); // nor fails on an instant beyond epoch millis

        assertThat(monitor.lateEvents()).isEqualTo(5);
        assertThat(monitor.stats("b")).isEmpty();
        SourceStats s = stats("a");
        assertThat(s.total()).isEqualTo(1);
        assertThat(s.errors()).isZero();
        assertThat(s.movingAverage()).isZero();
        assertThat(s.consecutiveFailures()).isZero();
        assertThat(s.lastError()).isNull();
        assertThat(s.lastErrorAt()).isNull();
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(10), 1, 0));
    }

    @Test
    void afterTheClockStepsBackASlotHoldingANewerBucketIsNotWrittenOver() {
        setNow(min(10));
        record("a", min(10), Level.ERROR);
        setNow(min(6)); // window: buckets 2..6; bucket 10 is ahead of now and not counted
        assertThat(stats("a").total()).isZero();
        record("a", min(5), Level.INFO); // in the window, but its slot holds bucket 10
        assertThat(monitor.lateEvents()).isEqualTo(1);
        record("a", min(4), Level.INFO); // its slot is free
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(4), 1, 0));
        setNow(min(10));
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(10), 1, 1));
    }

    @Test
    void anEventAheadOfNowCountsAtNow() {
        setNow(min(2.5));
        record("a", min(20), Level.ERROR);
        record("a", min(2), Level.INFO);
        record("a", Instant.MAX, Level.INFO); // beyond epoch millis: still now
        SourceStats s = stats("a");
        assertThat(monitor.buckets("a")).containsExactly(new BucketCount(min(2), 3, 1));
        assertThat(s.lastSeen()).isEqualTo(min(2.5));
        assertThat(s.lastErrorAt()).isEqualTo(min(2.5));
        // The error and the last success weigh 1 at 2.5, the other success half a minute before.
        assertThat(s.movingAverage()).isCloseTo(1 / (2 + w(0.5)), within(EPS));
    }

    @Test
    void consecutiveFailuresCountErrorsInARowAndAnyOtherLevelResetsThem() {
        setNow(min(4));
        record("a", min(1), Level.ERROR);
        record("a", min(1), Level.ERROR);
        record("a", min(1), Level.ERROR);
        assertThat(stats("a").consecutiveFailures()).isEqualTo(3);
        record("a", min(1), Level.WARN);
        assertThat(stats("a").consecutiveFailures()).isZero();
        record("a", min(1), Level.ERROR);
        record("a", min(1), Level.INFO);
        assertThat(stats("a").consecutiveFailures()).isZero();
        record("a", min(1), Level.ERROR);
        assertThat(stats("a").consecutiveFailures()).isEqualTo(1);
    }

    @Test
    void theLastErrorMessageIsCutTo512CharsNeverThroughASurrogatePair() {
        setNow(min(4));
        monitor.record(new MonitorEvent("a", min(1), Level.ERROR, "x".repeat(600)));
        assertThat(stats("a").lastError()).isEqualTo("x".repeat(512));
        String emoji = "\uD83D\uDE00";
        monitor.record(new MonitorEvent("a", min(2), Level.ERROR, "y".repeat(511) + emoji + "tail"));
        assertThat(stats("a").lastError()).isEqualTo("y".repeat(511));
        monitor.record(new MonitorEvent("a", min(3), Level.ERROR, "z".repeat(512)));
        assertThat(stats("a").lastError()).isEqualTo("z".repeat(512));
        // A later success keeps the last error; a later error without a message replaces it.
        monitor.record(new MonitorEvent("a", min(3), Level.INFO, "ok"));
        assertThat(stats("a").lastError()).isEqualTo("z".repeat(512));
        monitor.record(new MonitorEvent("a", min(3.5), Level.ERROR, null));
        assertThat(stats("a").lastError()).isNull();
        assertThat(stats("a").lastErrorAt()).isEqualTo(min(3.5));
    }

    @Test
    void beyondMaxSourcesTheLeastRecentlyRecordedIsEvictedAndReadingIsNotAUse() {
        setNow(min(1));
        record("a", min(1), Level.ERROR);
        record("b", min(1), Level.ERROR);
        record("c", min(1), Level.ERROR);
        record("a", min(1), Level.INFO); // order of use now: b, c, a
        assertThat(monitor.stats("b")).isPresent(); // a read: b stays the least recent
        assertThat(monitor.buckets("b")).hasSize(1);
        assertThat(monitor.evictedSources()).isZero();

        record("d", min(1), Level.INFO);
        assertThat(monitor.evictedSources()).isEqualTo(1);
        assertThat(monitor.stats("b")).isEmpty();
        assertThat(monitor.buckets("b")).isEmpty();
        assertThat(monitor.allStats()).extracting(SourceStats::source).containsExactly("a", "c", "d");

        record("e", min(1), Level.INFO);
        assertThat(monitor.evictedSources()).isEqualTo(2);
        assertThat(monitor.allStats()).extracting(SourceStats::source).containsExactly("a", "d", "e");
        assertThat(monitor.sourceCount()).isEqualTo(3);

        // An evicted source that comes back starts afresh.
        record("b", min(1), Level.INFO);
        assertThat(stats("b").total()).isEqualTo(1);
        assertThat(stats("b").errors()).isZero();
        assertThat(monitor.allStats()).extracting(SourceStats::source).containsExactly("b", "d", "e");
    }

    @Test
    void allStatsListsEverySourceBySourceWithItsOwnCounts() {
        setNow(min(3));
        record("z", min(1), Level.ERROR);
        record("m", min(2), Level.INFO);
        record("m", min(3), Level.ERROR);
        List<SourceStats> all = monitor.allStats();
        assertThat(all).extracting(SourceStats::source).containsExactly("m", "z");
        assertThat(all.get(0).total()).isEqualTo(2);
        assertThat(all.get(0).errorRate()).isEqualTo(0.5);
        assertThat(all.get(1).total()).isEqualTo(1);
        assertThat(all.get(1).errorRate()).isEqualTo(1.0);
    }

    @Test
    void replayingThePastInAnyOrderGivesTheSameCountsAndAverage() {
        Random random = new Random(42);
        List<MonitorEvent> events = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            String source = "s" + random.nextInt(3);
            // Minutes -2 .. 10 at now = 10: the first ~3 minutes are late.
            Instant t = min(-2).plusMillis(random.nextInt(12 * 60_000));
            Level level = Level.values()[random.nextInt(3)];
            events.add(new MonitorEvent(source, t, level, "m" + i));
        }
        List<MonitorEvent> shuffled = new ArrayList<>(events);
        Collections.shuffle(shuffled, new Random(7));

        ManualClock clockB = new ManualClock(min(10));
        ErrorRateMonitor b = new ErrorRateMonitor(CONFIG, clockB);
        setNow(min(10));
        events.forEach(monitor::record);
        shuffled.forEach(b::record);

        assertThat(b.lateEvents()).isEqualTo(monitor.lateEvents()).isPositive();
        for (String source : List.of("s0", "s1", "s2")) {
            assertThat(b.buckets(source)).isEqualTo(monitor.buckets(source)).hasSize(4); // minutes 6..9; none at 10
            SourceStats sa = stats(source);
            SourceStats sb = b.stats(source).orElseThrow();
            assertThat(sb.total()).isEqualTo(sa.total());
            assertThat(sb.errors()).isEqualTo(sa.errors());
            assertThat(sb.lastErrorAt()).isEqualTo(sa.lastErrorAt());
            assertThat(sb.lastSeen()).isEqualTo(sa.lastSeen());
            assertThat(sb.movingAverage()).isCloseTo(sa.movingAverage(), within(1e-12));
            // And both match the definition, from the events in the window.
            assertThat(sa.movingAverage()).isCloseTo(expectedAverage(events, source, min(6)), within(1e-12));
        }
    }

    /** e^(-age/τ)-weighted error share of the source's events at or after {@code from}, from the definition. */
    private static double expectedAverage(List<MonitorEvent> events, String source, Instant from) {
        List<MonitorEvent> kept = events.stream()
                .filter(e -> e.source().equals(source) && !e.eventTime().isBefore(from))
                .toList();
        long ref = kept.stream().mapToLong(e -> e.eventTime().toEpochMilli()).max().orElseThrow();
        double errors = 0;
        double total = 0;
        for (MonitorEvent e : kept) {
            double weight = w((ref - e.eventTime().toEpochMilli()) / 60_000.0);
            total += weight;
            if (e.isError()) {
                errors += weight;
            }
        }
        return errors / total;
    }

    @Test
    void theBucketsSumToTheSameFiguresAsTheStats() {
        setNow(min(5)); // window: buckets 1..5
        for (int i = 0; i < 30; i++) { // minutes 0, 0.17, ..., 4.93
            record("a", min(i * 0.17), i % 3 == 0 ? Level.ERROR : Level.INFO);
        }
        SourceStats s = stats("a");
        WindowTotals sum = WindowTotals.sum(monitor.buckets("a"), clock.instant(), CONFIG);
        assertThat(monitor.lateEvents()).isEqualTo(6); // i*0.17 < 1: i = 0..5
        assertThat(sum.total()).isEqualTo(s.total()).isEqualTo(24);
        assertThat(sum.errors()).isEqualTo(s.errors()).isEqualTo(8); // i = 6, 9, ..., 27
        assertThat(sum.errorRate()).isEqualTo(s.errorRate());
        assertThat(Evaluation.of(sum, s.consecutiveFailures())).isEqualTo(s.evaluation());
    }
}
