package dev.hourglass.core.timer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TimingWheelTest {

    /** 2026-01-01T00:00:00.123Z plus a bit: not aligned to any level (checked in wrapAround). */
    private static final long START = 1_767_225_600_123L + 5_000_017L;
    private static final long DAY = TimeUnit.DAYS.toMillis(1);

    /** Collects emissions as "key" strings and checks never-early against the now it was called with. */
    private static final class Sink {
        final List<String> keys = new ArrayList<>();
        final List<Long> dues = new ArrayList<>();

        int advance(TimingWheel<String, Long> wheel, long now) {
            int before = keys.size();
            int n = wheel.advance(now, (k, due) -> {
                assertThat(due).as("never early: %s due %d emitted at now %d", k, due, now).isLessThanOrEqualTo(now);
                keys.add(k);
                dues.add(due);
            });
            assertThat(n).isEqualTo(keys.size() - before);
            wheel.checkInvariants();
            return n;
        }

        List<String> take() {
            List<String> out = List.copyOf(keys);
            keys.clear();
            dues.clear();
            return out;
        }
    }

    /** Values are the due time, so the consumer can check never-early. */
    private static void schedule(TimingWheel<String, Long> wheel, String key, long due) {
        wheel.schedule(key, due, due);
    }

    @Test
    void sameInstantJobsAreEmittedTogetherInInsertionOrder() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        long due = START + 777;
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            schedule(wheel, "job-" + i, due);
            expected.add("job-" + i);
        }
        Sink sink = new Sink();

        assertThat(sink.advance(wheel, due - 1)).isZero();
        assertThat(sink.advance(wheel, due)).isEqualTo(1_000);
        assertThat(sink.take()).containsExactlyElementsOf(expected);
        assertThat(wheel.isEmpty()).isTrue();
    }

    @Test
    void workedExampleFromJavadocCascadesDownOneLevelPerStep() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(0);
        schedule(wheel, "a", 5_000);
        Sink sink = new Sink();

        assertThat(wheel.levelOf("a")).isEqualTo(2);
        assertThat(wheel.nextDueMillis()).isEqualTo(4_096);
        sink.advance(wheel, 4_096);
        assertThat(wheel.levelOf("a")).isEqualTo(1);
        assertThat(wheel.nextDueMillis()).isEqualTo(4_992);
        sink.advance(wheel, 4_992);
        assertThat(wheel.levelOf("a")).isEqualTo(0);
        assertThat(wheel.nextDueMillis()).isEqualTo(5_000);
        assertThat(sink.advance(wheel, 4_999)).isZero();
        assertThat(sink.advance(wheel, 5_000)).isEqualTo(1);
        assertThat(sink.take()).containsExactly("a");
        assertThat(wheel.nextDueMillis()).isEqualTo(Long.MAX_VALUE);
    }

    /**
     * Model-based property test: random schedules (upfront and while running, 0 ms to 30 days ahead, some in the
     * past), cancels and replaces, advanced in random increments. After every advance the emitted keys must be
     * exactly the model's entries with due <= now, in (due, schedule order) order: every entry emitted exactly once,
     * never early, at the first advance whose now >= due.
     */
    @ParameterizedTest(name = "seed {0}, near top-span boundary: {1}")
    @CsvSource({"1, false", "42, false", "20260101, false", "7, true"})
    void neverEarlyNeverLateExactlyOnceInOrder(long seed, boolean nearTopSpanBoundary) {
        Random rnd = new Random(seed);
        // Near a boundary, horizons cross into the next 2^36 ms span (overflow) while the test runs.
        long base = nearTopSpanBoundary ? (26L << TimingWheel.TOP_BITS) - 15 * DAY : START;
        long start = base + rnd.nextInt(1 << 20);
        TimingWheel<String, Long> wheel = new TimingWheel<>(start);
        Model model = new Model();
        Sink sink = new Sink();
        int nextKey = 0;
        long now = start;
        int totalScheduled = 0;
        int totalEmitted = 0;

        for (; nextKey < 5_000; nextKey++) {
            long due = now + randomHorizon(rnd);
            model.schedule("k" + nextKey, due);
            schedule(wheel, "k" + nextKey, due);
            totalScheduled++;
        }
        if (nearTopSpanBoundary) {
            long inOverflow = model.byKey.keySet().stream()
                    .filter(k -> wheel.levelOf(k) == TimingWheel.OVERFLOW).count();
            assertThat(inOverflow).as("entries beyond the top span").isPositive();
        }
        long end = start + 31 * DAY;
        while (now < end || !model.isEmpty()) {
            // Mutate: schedule new keys, cancel or replace random existing ones.
            int ops = rnd.nextInt(60);
            for (int i = 0; i < ops && nextKey < 10_000; i++) {
                long due = wheel.currentMillis() + randomHorizon(rnd) - (rnd.nextInt(10) == 0 ? rnd.nextInt(2_000) : 0);
                String key = "k" + nextKey++;
                model.schedule(key, due);
                schedule(wheel, key, due);
                totalScheduled++;
            }
            if (!model.isEmpty() && rnd.nextInt(4) == 0) {
                String key = model.randomKey(rnd);
                if (rnd.nextBoolean()) {
                    assertThat(wheel.cancel(key)).isTrue();
                    model.cancel(key);
                    totalScheduled--;
                } else {
                    long due = wheel.currentMillis() + randomHorizon(rnd);
                    model.schedule(key, due); // replace
                    schedule(wheel, key, due);
                }
            }
            assertThat(wheel.size()).isEqualTo(model.size());
            if (!model.isEmpty()) {
                assertThat(wheel.nextDueMillis()).isLessThanOrEqualTo(model.firstDue());
            }

            now += randomIncrement(rnd);
            sink.advance(wheel, now);
            List<String> expected = model.expire(now);
            assertThat(sink.take()).as("emitted at now=%d", now).containsExactlyElementsOf(expected);
            totalEmitted += expected.size();
            assertThat(wheel.currentMillis()).isEqualTo(now);
        }
        assertThat(nextKey).isEqualTo(10_000);
        assertThat(totalEmitted).isEqualTo(totalScheduled);
        assertThat(wheel.isEmpty()).isTrue();
    }

    /** 0 ms .. 30 days, spread over every level (log-uniform-ish), with a few due exactly now. */
    private static long randomHorizon(Random rnd) {
        int bits = rnd.nextInt(32); // 2^31 ms ~ 24.8 days
        long h = bits == 0 ? 0 : (1L << (bits - 1)) + (long) (rnd.nextDouble() * (1L << (bits - 1)));
        return Math.min(h, 30 * DAY);
    }

    /** 1 ms .. ~1.5 days, log-uniform-ish, so both tiny steps and long idle gaps occur. */
    private static long randomIncrement(Random rnd) {
        int bits = rnd.nextInt(27);
        return 1 + (1L << bits) + (long) (rnd.nextDouble() * (1L << bits));
    }

    /** Reference model: entries ordered by (due, schedule sequence). */
    private static final class Model {
        private record E(String key, long due, long seq) {}

        private final NavigableSet<E> byDue =
                new TreeSet<>(Comparator.comparingLong(E::due).thenComparingLong(E::seq));
        private final Map<String, E> byKey = new HashMap<>();
        private final List<String> keys = new ArrayList<>();
        private long seq;

        void schedule(String key, long due) {
            cancel(key);
            E e = new E(key, due, seq++);
            byDue.add(e);
            byKey.put(key, e);
            keys.add(key);
        }

        void cancel(String key) {
            E old = byKey.remove(key);
            if (old != null) {
                byDue.remove(old);
            }
        }

        List<String> expire(long now) {
            List<String> out = new ArrayList<>();
            while (!byDue.isEmpty() && byDue.first().due() <= now) {
                E e = byDue.pollFirst();
                byKey.remove(e.key());
                out.add(e.key());
            }
            return out;
        }

        String randomKey(Random rnd) {
            while (true) { // keys holds stale entries too; resample until a live one
                int i = rnd.nextInt(keys.size());
                String k = keys.get(i);
                if (byKey.containsKey(k)) {
                    return k;
                }
                keys.set(i, keys.get(keys.size() - 1));
                keys.remove(keys.size() - 1);
            }
        }

        long firstDue() {
            return byDue.first().due();
        }

        boolean isEmpty() {
            return byDue.isEmpty();
        }

        int size() {
            return byDue.size();
        }
    }

    @Test
    void farFutureEntriesGoToOverflowAndFireExactlyOnTime() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        long fiveYears = START + 5 * 365 * DAY + DAY; // incl. a leap day
        long huge = START + (1L << 40); // ~34.8 years
        schedule(wheel, "huge", huge);
        schedule(wheel, "five-years", fiveYears);
        schedule(wheel, "soon", START + 10);
        Sink sink = new Sink();

        assertThat(wheel.levelOf("five-years")).isEqualTo(TimingWheel.OVERFLOW);
        assertThat(wheel.levelOf("huge")).isEqualTo(TimingWheel.OVERFLOW);
        assertThat(wheel.nextDueMillis()).isEqualTo(START + 10);
        sink.advance(wheel, START + 10);
        assertThat(sink.take()).containsExactly("soon");
        // Only overflow is left: nextDueMillis is exact there.
        assertThat(wheel.nextDueMillis()).isEqualTo(fiveYears);

        // Walk month by month (crossing top-span boundaries ~every 795 days): nothing fires early.
        long now = START + 10;
        while (now + 30 * DAY < fiveYears) {
            now += 30 * DAY;
            assertThat(sink.advance(wheel, now)).isZero();
            assertThat(wheel.nextDueMillis()).isLessThanOrEqualTo(fiveYears).isGreaterThan(now);
        }
        assertThat(sink.advance(wheel, fiveYears - 1)).isZero();
        assertThat(sink.advance(wheel, fiveYears)).isEqualTo(1);
        assertThat(sink.take()).containsExactly("five-years");

        // Jump straight to the 2^40 entry via nextDueMillis: one step, no early fire.
        assertThat(wheel.nextDueMillis()).isEqualTo(huge);
        assertThat(sink.advance(wheel, huge - 1)).isZero();
        assertThat(sink.advance(wheel, wheel.nextDueMillis())).isEqualTo(1);
        assertThat(sink.take()).containsExactly("huge");
        assertThat(wheel.isEmpty()).isTrue();
        assertThat(wheel.currentMillis()).isEqualTo(huge);
    }

    @Test
    void shortDelayAcrossTopSpanBoundaryStillFiresExactly() {
        long boundary = 7L << TimingWheel.TOP_BITS;
        TimingWheel<String, Long> wheel = new TimingWheel<>(boundary - 3);
        schedule(wheel, "a", boundary + 2);
        schedule(wheel, "b", boundary - 1);
        assertThat(wheel.levelOf("a")).isEqualTo(TimingWheel.OVERFLOW);
        Sink sink = new Sink();

        assertThat(sink.advance(wheel, boundary + 1)).isEqualTo(1);
        assertThat(sink.advance(wheel, boundary + 2)).isEqualTo(1);
        assertThat(sink.take()).containsExactly("b", "a");
    }

    @Test
    void wrapAroundAtEveryLevelBoundaryWithUnalignedStart() {
        // The start digit is neither 0 nor 63 on any level, so slots on both sides of it are used.
        for (int level = 0; level < TimingWheel.LEVELS; level++) {
            long digit = (START >>> (6 * level)) & 63;
            assertThat(digit).as("start digit on level %d", level).isNotIn(0L, 63L);
        }
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        List<Long> dues = new ArrayList<>();
        for (long offset : new long[] {0, 1, 62, 63, 64, 65, 4_095, 4_096, 4_097}) {
            dues.add(START + offset);
        }
        for (int bits = 6; bits <= 42; bits += 6) {
            long width = 1L << bits;
            // The next slot boundary of level bits/6-1 (a slot-0 boundary of the level below) and the one after.
            long next = (START | (width - 1)) + 1;
            for (long b : new long[] {next, next + width}) {
                dues.add(b - 1);
                dues.add(b);
                dues.add(b + 1);
            }
            dues.add(START + width - 1);
            dues.add(START + width);
            dues.add(START + width + 1);
        }
        for (int i = 0; i < dues.size(); i++) {
            schedule(wheel, "e" + i, dues.get(i));
        }
        Sink sink = new Sink();

        List<Long> sorted = dues.stream().distinct().sorted().toList();
        for (long due : sorted) {
            if (due - 1 > wheel.currentMillis()) {
                assertThat(sink.advance(wheel, due - 1)).as("before %d", due).isZero();
            }
            int expected = (int) dues.stream().filter(d -> d == due).count();
            assertThat(sink.advance(wheel, due)).as("at %d", due).isEqualTo(expected);
            assertThat(sink.dues).containsOnly(due);
            sink.take();
        }
        assertThat(wheel.isEmpty()).isTrue();
    }

    @Test
    void cancelBeforeFireAtEveryLocation() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        schedule(wheel, "past", START - 5);
        schedule(wheel, "l0", START + 1);
        schedule(wheel, "l3", START + 1_000_000);
        schedule(wheel, "overflow", START + (1L << 38));
        schedule(wheel, "keep", START + 2);
        assertThat(wheel.levelOf("past")).isEqualTo(TimingWheel.EXPIRED);
        assertThat(wheel.levelOf("overflow")).isEqualTo(TimingWheel.OVERFLOW);

        for (String key : List.of("past", "l0", "l3", "overflow")) {
            assertThat(wheel.cancel(key)).as(key).isTrue();
            assertThat(wheel.cancel(key)).as("second cancel of %s", key).isFalse();
            assertThat(wheel.levelOf(key)).isEqualTo(TimingWheel.ABSENT);
            wheel.checkInvariants();
        }
        assertThat(wheel.size()).isEqualTo(1);
        assertThat(wheel.nextDueMillis()).isEqualTo(START + 2);

        Sink sink = new Sink();
        sink.advance(wheel, START + (1L << 39));
        assertThat(sink.take()).containsExactly("keep");
        assertThat(wheel.nextDueMillis()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void cancelOfUnknownKeyReturnsFalseAndChangesNothing() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        schedule(wheel, "a", START + 10); // level 0: nextDueMillis is exact

        assertThat(wheel.cancel("nope")).isFalse();
        assertThat(wheel.size()).isEqualTo(1);
        assertThat(wheel.nextDueMillis()).isEqualTo(START + 10);
        assertThat(new TimingWheel<String, Long>(0).cancel("x")).isFalse();
    }

    @Test
    void replaceMovesTheEntryAndItFiresOnceAtTheNewTime() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        Sink sink = new Sink();
        schedule(wheel, "later", START + 100);
        schedule(wheel, "later", START + 5_000);
        schedule(wheel, "sooner", START + 900_000);
        schedule(wheel, "sooner", START + 50);
        schedule(wheel, "to-past", START + 70);
        schedule(wheel, "to-past", START - 1);
        assertThat(wheel.size()).isEqualTo(3);

        sink.advance(wheel, START);
        assertThat(sink.take()).containsExactly("to-past");
        sink.advance(wheel, START + 100);
        assertThat(sink.take()).containsExactly("sooner");
        sink.advance(wheel, START + 4_999);
        assertThat(sink.take()).isEmpty();
        sink.advance(wheel, START + 1_000_000);
        assertThat(sink.take()).containsExactly("later");
        assertThat(wheel.isEmpty()).isTrue();
    }

    @Test
    void replaceRestartsScheduleOrderAmongEqualDueTimes() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        schedule(wheel, "a", START + 300);
        schedule(wheel, "b", START + 300);
        schedule(wheel, "a", START + 300); // re-scheduled: now after b
        Sink sink = new Sink();
        sink.advance(wheel, START + 300);
        assertThat(sink.take()).containsExactly("b", "a");
    }

    @Test
    void clockThatJumpsBackNeitherMovesTimeBackNorFiresEarly() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        Sink sink = new Sink();
        schedule(wheel, "wheel", START + 50);
        schedule(wheel, "past", START - 200); // expired relative to the wheel, but in the future of the stepped-back clock

        assertThat(sink.advance(wheel, START - 1_000)).isZero();
        assertThat(wheel.currentMillis()).isEqualTo(START);
        assertThat(wheel.size()).isEqualTo(2);
        assertThat(wheel.nextDueMillis()).isEqualTo(START - 200);

        assertThat(sink.advance(wheel, START - 201)).isZero();
        assertThat(sink.advance(wheel, START - 200)).isEqualTo(1);
        assertThat(sink.take()).containsExactly("past");
        assertThat(wheel.currentMillis()).isEqualTo(START);

        // Scheduled while the clock is behind: due > wheel time, so it waits on the wheel as usual.
        schedule(wheel, "after", START + 10);
        assertThat(sink.advance(wheel, START + 9)).isZero();
        assertThat(sink.advance(wheel, START + 50)).isEqualTo(2);
        assertThat(sink.take()).containsExactly("after", "wheel");
        assertThat(wheel.currentMillis()).isEqualTo(START + 50);
    }

    @Test
    void nextDueMillisIsALowerBoundAndMakesProgress() {
        Random rnd = new Random(7);
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        Model model = new Model();
        for (int i = 0; i < 2_000; i++) {
            long due = START + randomHorizon(rnd) * (rnd.nextInt(50) == 0 ? 40 : 1); // some beyond the top span
            model.schedule("k" + i, due);
            schedule(wheel, "k" + i, due);
        }
        Sink sink = new Sink();
        int steps = 0;
        while (!model.isEmpty()) {
            long next = wheel.nextDueMillis();
            assertThat(next).as("lower bound").isLessThanOrEqualTo(model.firstDue());
            if (model.firstDue() > wheel.currentMillis()) { // nothing expired
                assertThat(next).as("progress").isGreaterThan(wheel.currentMillis());
            }
            sink.advance(wheel, next);
            steps++;
            List<String> expected = model.expire(next);
            assertThat(sink.take()).containsExactlyElementsOf(expected);
            if (!expected.isEmpty()) {
                assertThat(steps).as("steps to reach an entry").isLessThanOrEqualTo(8);
                steps = 0;
            }
        }
        assertThat(wheel.nextDueMillis()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void nextDueMillisIsExactForExpiredEntries() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        schedule(wheel, "x", START + 10);
        schedule(wheel, "y", START - 3);
        assertThat(wheel.nextDueMillis()).isEqualTo(START - 3);
        assertThat(new TimingWheel<String, Long>(START).nextDueMillis()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void drainReturnsEverythingNotFiredInDueOrder() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        long[] dues = {START + 5, START - 10, START + (1L << 37), START + 70_000, START + 5, START + 3 * DAY,
            START + 40, START - 10};
        for (int i = 0; i < dues.length; i++) {
            schedule(wheel, "d" + i, dues[i]);
        }
        Sink sink = new Sink();
        sink.advance(wheel, START + 5);
        assertThat(sink.take()).containsExactly("d1", "d7", "d0", "d4");

        List<Long> drained = wheel.drain();
        assertThat(drained).containsExactly(START + 40, START + 70_000, START + 3 * DAY, START + (1L << 37));
        assertThat(wheel.isEmpty()).isTrue();
        assertThat(wheel.size()).isZero();
        assertThat(wheel.nextDueMillis()).isEqualTo(Long.MAX_VALUE);
        wheel.checkInvariants();
        assertThat(sink.advance(wheel, START + (1L << 38))).isZero();

        // Still usable after a drain.
        schedule(wheel, "again", wheel.currentMillis() + 1);
        assertThat(sink.advance(wheel, wheel.currentMillis() + 1)).isEqualTo(1);
    }

    @Test
    void drainKeepsScheduleOrderForEqualDueTimes() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        for (int i = 0; i < 10; i++) {
            wheel.schedule("k" + i, START + 10_000, (long) i);
        }
        wheel.schedule("past", START - 1, -1L);
        assertThat(wheel.drain()).containsExactly(-1L, 0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
    }

    @Test
    void entryScheduledInThePastFiresOnTheNextAdvanceEvenWithoutTimeMoving() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        schedule(wheel, "now", START);
        schedule(wheel, "earlier", START - 60_000);
        schedule(wheel, "future", START + 1);
        Sink sink = new Sink();

        assertThat(sink.advance(wheel, START)).isEqualTo(2);
        assertThat(sink.take()).containsExactly("earlier", "now");
        assertThat(wheel.currentMillis()).isEqualTo(START);

        // Past entries are emitted before entries the wheel expires in the same call.
        sink.advance(wheel, START); // no-op
        schedule(wheel, "late", START - 1);
        sink.advance(wheel, START + 1);
        assertThat(sink.take()).containsExactly("late", "future");
    }

    @Test
    void largeGapOfThirtyDaysWithHundredThousandEntriesInOneAdvance() {
        Random rnd = new Random(30);
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        Model model = new Model();
        for (int i = 0; i < 100_000; i++) {
            long due = START + 1 + (long) (rnd.nextDouble() * 30 * DAY);
            model.schedule("k" + i, due);
            schedule(wheel, "k" + i, due);
        }
        schedule(wheel, "beyond", START + 31 * DAY);
        Sink sink = new Sink();

        assertThat(sink.advance(wheel, START + 30 * DAY)).isEqualTo(100_000);
        assertThat(sink.take()).containsExactlyElementsOf(model.expire(START + 30 * DAY));
        assertThat(wheel.size()).isEqualTo(1);
        assertThat(wheel.currentMillis()).isEqualTo(START + 30 * DAY);

        // An idle gap with nothing due in it is a single step.
        TimingWheel<String, Long> idle = new TimingWheel<>(START);
        schedule(idle, "x", START + 10 * 365 * DAY);
        assertThat(sink.advance(idle, START + 9 * 365 * DAY)).isZero();
        assertThat(idle.size()).isEqualTo(1);
    }

    @Test
    void consumerMustNotCallBackIntoTheWheel() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        schedule(wheel, "a", START + 1);
        schedule(wheel, "b", START + 2);

        assertThatThrownBy(() -> wheel.advance(START + 5, (k, v) -> wheel.schedule("c", START + 3, 0L)))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> wheel.advance(START + 5, (k, v) -> wheel.cancel("b")))
                .isInstanceOf(IllegalStateException.class);
        wheel.checkInvariants();
        // a was handed to the first consumer (which threw), b to the second; the wheel is usable again.
        assertThat(wheel.isEmpty()).isTrue();
        schedule(wheel, "c", START + 6);
        assertThat(new Sink().advance(wheel, START + 6)).isEqualTo(1);
    }

    @Test
    void consumerThatThrowsLeavesTheRestForTheNextAdvance() {
        TimingWheel<String, Long> wheel = new TimingWheel<>(START);
        for (int i = 0; i < 5; i++) {
            schedule(wheel, "k" + i, START + 100 + i);
        }
        List<String> seen = new ArrayList<>();
        assertThatThrownBy(() -> wheel.advance(START + 1_000, (k, v) -> {
            seen.add(k);
            if (k.equals("k1")) {
                throw new IllegalArgumentException("boom");
            }
        })).hasMessage("boom");
        assertThat(seen).containsExactly("k0", "k1");
        wheel.checkInvariants();
        assertThat(wheel.size()).isEqualTo(3);
        assertThat(wheel.nextDueMillis()).isEqualTo(START + 102);

        schedule(wheel, "past", START + 102); // equal due, scheduled later: after k2
        Sink sink = new Sink();
        sink.advance(wheel, START + 1_000);
        assertThat(sink.take()).containsExactly("k2", "past", "k3", "k4");
    }
}
