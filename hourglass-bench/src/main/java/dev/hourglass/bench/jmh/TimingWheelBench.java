package dev.hourglass.bench.jmh;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.timer.TimingWheel;
import java.time.Instant;
import java.time.InstantSource;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The in-memory timer ({@link TimingWheel}, keyed by {@link JobId} as in the engine) holding {@code entries} jobs
 * due within the next hour: the cost of one schedule, one cancel, and one firing, in ns per entry.
 *
 * <p>Each invocation does {@link #BATCH} operations, and an invocation-level tear-down undoes them outside the
 * measured time. Without it an insert benchmark would grow the wheel by millions of entries per second and a cancel
 * or firing benchmark would empty it within milliseconds, so the figure would not be for {@code entries} at all.
 * A batch takes tens of microseconds, long enough that JMH's per-invocation timestamps do not show.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TimingWheelBench {
    static final int BATCH = 1_000;
    /** The dues are spread over an hour, as far ahead as a generous horizon reaches. */
    static final long WINDOW_MS = 3_600_000;
    static final long START_MS = 1_800_000_000_000L;

    /** Schedules {@link #BATCH} new keys at random dues; the tear-down cancels them again. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int insert(Inserts s) {
        for (int i = 0; i < BATCH; i++) {
            s.wheel.schedule(s.fresh[i], s.freshDue[i], s.fresh[i]);
        }
        return s.wheel.size();
    }

    /** Cancels {@link #BATCH} random resident keys; the tear-down schedules them again at their dues. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int cancel(Cancels s) {
        int cancelled = 0;
        for (int i = 0; i < BATCH; i++) {
            cancelled += s.wheel.cancel(s.victims[i]) ? 1 : 0;
        }
        return cancelled;
    }

    /**
     * Advances time far enough that exactly {@link #BATCH} entries come due, cascades included, and hands them to a
     * consumer that collects them (as the firing loop does); the tear-down schedules them again one window later,
     * so the wheel is a steady stream.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int advance(Firings s) {
        s.now += s.step;
        return s.wheel.advance(s.now, s.collector);
    }

    /** A wheel of {@code entries} keys with random dues within the window after {@link #START_MS}. */
    static TimingWheel<JobId, JobId> randomWheel(int entries, SplittableRandom random, JobIdGenerator ids) {
        TimingWheel<JobId, JobId> wheel = new TimingWheel<>(START_MS);
        for (int i = 0; i < entries; i++) {
            JobId id = ids.next();
            wheel.schedule(id, randomDue(random), id);
        }
        return wheel;
    }

    static long randomDue(SplittableRandom random) {
        return START_MS + 1 + random.nextLong(WINDOW_MS);
    }

    static JobIdGenerator ids() {
        return new JobIdGenerator(InstantSource.fixed(Instant.ofEpochMilli(START_MS)),
                new SplittableRandom(7));
    }

    @State(Scope.Thread)
    public static class Inserts {
        @Param({"10000", "1000000"})
        int entries;

        TimingWheel<JobId, JobId> wheel;
        final JobId[] fresh = new JobId[BATCH];
        final long[] freshDue = new long[BATCH];

        @Setup(Level.Trial)
        public void fill() {
            SplittableRandom random = new SplittableRandom(42);
            JobIdGenerator ids = ids();
            wheel = randomWheel(entries, random, ids);
            for (int i = 0; i < BATCH; i++) {
                fresh[i] = ids.next();
                freshDue[i] = randomDue(random);
            }
        }

        @TearDown(Level.Invocation)
        public void undo() {
            for (JobId id : fresh) {
                wheel.cancel(id);
            }
        }
    }

    @State(Scope.Thread)
    public static class Cancels {
        @Param({"10000", "1000000"})
        int entries;

        TimingWheel<JobId, JobId> wheel;
        final JobId[] victims = new JobId[BATCH];
        final long[] victimDue = new long[BATCH];

        @Setup(Level.Trial)
        public void fill() {
            SplittableRandom random = new SplittableRandom(42);
            JobIdGenerator ids = ids();
            wheel = new TimingWheel<>(START_MS);
            // Every entries/BATCH-th key is a victim, so the victims are spread over the whole window and the wheel.
            int every = entries / BATCH;
            for (int i = 0; i < entries; i++) {
                JobId id = ids.next();
                long due = randomDue(random);
                wheel.schedule(id, due, id);
                if (i % every == 0 && i / every < BATCH) {
                    victims[i / every] = id;
                    victimDue[i / every] = due;
                }
            }
        }

        @TearDown(Level.Invocation)
        public void undo() {
            for (int i = 0; i < BATCH; i++) {
                wheel.schedule(victims[i], victimDue[i], victims[i]);
            }
        }
    }

    /**
     * Dues evenly spaced, {@code WINDOW_MS / entries} apart, so that every step of {@code BATCH * WINDOW_MS /
     * entries} ms fires exactly {@link #BATCH} entries; the value is the entry's due, to schedule it again.
     */
    @State(Scope.Thread)
    public static class Firings {
        @Param({"10000", "1000000"})
        int entries;

        TimingWheel<JobId, Long> wheel;
        long now;
        long step;
        final JobId[] firedIds = new JobId[BATCH];
        final long[] firedDue = new long[BATCH];
        int fired;
        final BiConsumer<JobId, Long> collector = (id, due) -> {
            firedIds[fired] = id;
            firedDue[fired] = due;
            fired++;
        };

        @Setup(Level.Trial)
        public void fill() {
            if ((BATCH * WINDOW_MS) % entries != 0) {
                throw new IllegalArgumentException("entries must divide " + BATCH * WINDOW_MS);
            }
            JobIdGenerator ids = ids();
            wheel = new TimingWheel<>(START_MS);
            now = START_MS;
            step = BATCH * WINDOW_MS / entries;
            for (long i = 0; i < entries; i++) {
                long due = START_MS + 1 + i * WINDOW_MS / entries;
                wheel.schedule(ids.next(), due, due);
            }
        }

        @TearDown(Level.Invocation)
        public void refill() {
            if (fired != BATCH) {
                // A broken fixture, not a slow one: the figure would be per some other number of entries.
                throw new IllegalStateException("expected " + BATCH + " entries to fire, got " + fired);
            }
            for (int i = 0; i < BATCH; i++) {
                long due = firedDue[i] + WINDOW_MS;
                wheel.schedule(firedIds[i], due, due);
            }
            fired = 0;
        }
    }
}
