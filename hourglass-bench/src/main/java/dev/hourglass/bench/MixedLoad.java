package dev.hourglass.bench;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.ChangeResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S4, mixed load in library mode on SQLite: for a fixed time, {@link #CALLERS} caller threads share one stream of
 * operations, paced at {@code rate} operations per second (0: as fast as they go), each a blocking call on the
 * engine, in a repeating pattern of eight: 2 schedules of a near job (due 0.5-2 s later, so it fires during the
 * run), 2 schedules of a far job (due 5-60 s after the end of the run, so it never fires here; those due inside the
 * horizon are claimed into the timer during the run), 1 cancel and 3 status reads of a random known job. Three
 * cancels in four take the oldest far job not yet cancelled, the fourth the newest near job (due within 2 s and
 * already in the timer: the cancel races the firing). Meanwhile the near jobs fire (no-op handler).
 *
 * <p>Reports per operation the throughput and the call latency (p50/p99/p99.9/max), how far the callers fell behind
 * the pacing, the lateness of the near jobs that fired (the first {@link LatenessAtSteadyRate#WARMUP} of due times
 * excluded in runs of 10 s or more) and the early count, and checks, by printing it, that no job whose cancel
 * succeeded has fired. Asserts nothing.
 */
final class MixedLoad {
    static final int CALLERS = 8;
    private static final Duration NEAR_MIN = Duration.ofMillis(500);
    private static final Duration NEAR_MAX = Duration.ofMillis(2_000);
    private static final Duration FAR_MIN_AFTER_END = Duration.ofSeconds(5);
    private static final Duration FAR_MAX_AFTER_END = Duration.ofSeconds(60);
    private static final int KNOWN_IDS = 1 << 16;

    enum Op {
        SCHEDULE_NEAR("schedule-near"),
        SCHEDULE_FAR("schedule-far"),
        CANCEL("cancel"),
        STATUS("status");

        final String label;

        Op(String label) {
            this.label = label;
        }
    }

    private static final Op[] PATTERN = {Op.SCHEDULE_NEAR, Op.SCHEDULE_FAR, Op.STATUS, Op.CANCEL,
        Op.SCHEDULE_NEAR, Op.SCHEDULE_FAR, Op.STATUS, Op.STATUS};

    private MixedLoad() {}

    /** What one run measured; the report prints it, the caller may keep it. */
    record Result(Map<Op, Long> counts, Map<Op, Histogram> latencyMicros, double seconds, long nearFired,
            long farFired, long early, Histogram latenessMicros, long cancelledFired) {}

    static Result run(Report report, Path workDir, int rate, Duration duration) throws Exception {
        Path dir = BenchEngines.scratch(workDir, "s4-mixed");
        Map<Op, Recorder> latency = new EnumMap<>(Op.class);
        Map<Op, LongAdder> counts = new EnumMap<>(Op.class);
        for (Op op : Op.values()) {
            latency.put(op, new Recorder(3));
            counts.put(op, new LongAdder());
        }
        LongAdder failures = new LongAdder();
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        LongAccumulator maxBehindNanos = new LongAccumulator(Math::max, 0);
        // cancel outcomes: far/near x changed/wrong state/not found, and cancels with nothing to cancel
        LongAdder cancelFarChanged = new LongAdder();
        LongAdder cancelNearChanged = new LongAdder();
        LongAdder cancelNearTooLate = new LongAdder();
        LongAdder cancelOther = new LongAdder();
        LongAdder cancelNothing = new LongAdder();

        Recorder lateness = new Recorder(3);
        LongAdder nearFired = new LongAdder();
        LongAdder farFired = new LongAdder();
        LongAdder early = new LongAdder();
        LongAccumulator worstMicros = new LongAccumulator(Math::max, Long.MIN_VALUE); // since the last progress line
        Set<JobId> firedIds = ConcurrentHashMap.newKeySet();
        Set<JobId> cancelledIds = ConcurrentHashMap.newKeySet();
        Duration warmup = duration.compareTo(LatenessAtSteadyRate.WARMUP.multipliedBy(2)) >= 0
                ? LatenessAtSteadyRate.WARMUP : Duration.ZERO;
        AtomicLong measureFromMillis = new AtomicLong(Long.MAX_VALUE);
        EngineMetrics metrics = new EngineMetrics() {
            @Override
            public void attemptStarted(Job job, Duration late) {
                firedIds.add(job.id());
                boolean near = job.payload().length > 0 && job.payload()[0] == 'n';
                (near ? nearFired : farFired).increment();
                long micros = late.toNanos() / 1_000;
                worstMicros.accumulate(micros);
                if (micros < 0) {
                    early.increment();
                } else if (near && job.dueAt().toEpochMilli() >= measureFromMillis.get()) {
                    lateness.recordValue(micros);
                }
            }
        };

        JobRequest nearJob = JobRequest.of("noop", new byte[] {'n'});
        JobRequest farJob = JobRequest.of("noop", new byte[] {'f'});
        ConcurrentLinkedQueue<JobId> farIds = new ConcurrentLinkedQueue<>();
        AtomicReference<JobId> newestNear = new AtomicReference<>();
        AtomicReferenceArray<JobId> known = new AtomicReferenceArray<>(KNOWN_IDS);
        AtomicLong knownCount = new AtomicLong();
        AtomicLong tickets = new AtomicLong();
        AtomicLong cancels = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        long total = rate > 0 ? (long) rate * duration.toSeconds() : Long.MAX_VALUE;
        long intervalNanos = rate > 0 ? 1_000_000_000L / rate : 0;

        try (Hourglass engine = BenchEngines.engine(dir, ctx -> Outcome.succeeded(), metrics, 512)) {
            measureFromMillis.set(engine.wallClock().millis() + warmup.toMillis());
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < CALLERS; t++) {
                threads.add(Thread.ofPlatform().name("mixed-" + t).start(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (!stop.get()) {
                        long i = tickets.getAndIncrement();
                        if (i >= total) {
                            return;
                        }
                        long intended = start + i * intervalNanos;
                        long wait = intended - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                        long t0 = System.nanoTime();
                        if (rate <= 0 && t0 >= end) {
                            return;
                        }
                        if (rate > 0) {
                            maxBehindNanos.accumulate(t0 - intended);
                        }
                        Op op = PATTERN[(int) (i % PATTERN.length)];
                        try {
                            switch (op) {
                                case SCHEDULE_NEAR -> {
                                    long delay = NEAR_MIN.toMillis()
                                            + random.nextLong(NEAR_MAX.toMillis() - NEAR_MIN.toMillis());
                                    JobId id = engine.schedule(nearJob, When.after(Duration.ofMillis(delay))).job().id();
                                    newestNear.set(id);
                                    known.set((int) (knownCount.getAndIncrement() & (KNOWN_IDS - 1)), id);
                                }
                                case SCHEDULE_FAR -> {
                                    long untilEnd = Math.max(0, end - t0) / 1_000_000;
                                    long delay = untilEnd + FAR_MIN_AFTER_END.toMillis() + random.nextLong(
                                            FAR_MAX_AFTER_END.toMillis() - FAR_MIN_AFTER_END.toMillis());
                                    JobId id = engine.schedule(farJob, When.after(Duration.ofMillis(delay))).job().id();
                                    farIds.add(id);
                                    known.set((int) (knownCount.getAndIncrement() & (KNOWN_IDS - 1)), id);
                                }
                                case CANCEL -> {
                                    boolean near = cancels.getAndIncrement() % 4 == 3;
                                    JobId id = near ? newestNear.getAndSet(null) : farIds.poll();
                                    if (id == null) {
                                        cancelNothing.increment();
                                    } else {
                                        ChangeResult r = engine.cancel(id);
                                        if (r instanceof ChangeResult.Changed) {
                                            cancelledIds.add(id);
                                            (near ? cancelNearChanged : cancelFarChanged).increment();
                                        } else if (near && r instanceof ChangeResult.WrongState) {
                                            cancelNearTooLate.increment();
                                        } else {
                                            cancelOther.increment();
                                        }
                                    }
                                }
                                case STATUS -> {
                                    long n = Math.min(knownCount.get(), KNOWN_IDS);
                                    JobId id = n == 0 ? null : known.get((int) random.nextLong(n));
                                    if (id != null) {
                                        engine.getStatus(id);
                                    }
                                }
                            }
                            latency.get(op).recordValue((System.nanoTime() - t0) / 1_000);
                            counts.get(op).increment();
                        } catch (RuntimeException e) {
                            failures.increment();
                            firstFailure.compareAndSet(null, e);
                        }
                    }
                }));
            }
            long seconds = Math.max(1, duration.toSeconds());
            for (long s = 1; s <= seconds; s++) {
                Thread.sleep(Math.max(0, (start + s * 1_000_000_000L - System.nanoTime()) / 1_000_000));
                long worst = worstMicros.getThenReset();
                Report.progress("mixed: %d s, %,d near + %,d far scheduled, %,d cancels, %,d status reads; "
                                + "%,d fired, %d early, latest second's worst lateness %s", s,
                        counts.get(Op.SCHEDULE_NEAR).sum(), counts.get(Op.SCHEDULE_FAR).sum(),
                        counts.get(Op.CANCEL).sum(), counts.get(Op.STATUS).sum(), nearFired.sum() + farFired.sum(),
                        early.sum(), worst == Long.MIN_VALUE ? "-"
                                : String.format(Locale.ROOT, "%.1f ms", worst / 1000.0));
            }
            // Paced callers finish their last tickets (they are due by now unless the callers fell behind);
            // callers that are still busy 10 s later, or unpaced ones, stop at once.
            long joinBy = System.nanoTime() + (rate > 0 ? Duration.ofSeconds(10).toNanos() : 0);
            for (Thread t : threads) {
                t.join(Duration.ofNanos(Math.max(1, joinBy - System.nanoTime())));
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            // The near jobs still due fire within NEAR_MAX; wait for them (a cancelled one never comes).
            long expected = counts.get(Op.SCHEDULE_NEAR).sum() - cancelNearChanged.sum();
            long deadline = System.nanoTime() + NEAR_MAX.plusSeconds(10).toNanos();
            while (nearFired.sum() < expected && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (nearFired.sum() < expected) {
                Report.progress("mixed: %,d of %,d near jobs fired by %d s after the end", nearFired.sum(),
                        expected, NEAR_MAX.plusSeconds(10).toSeconds());
            }
            if (failures.sum() > 0) {
                Report.progress("mixed: %,d calls failed, the first: %s", failures.sum(), firstFailure.get());
            }

            Map<Op, Long> opCounts = new EnumMap<>(Op.class);
            Map<Op, Histogram> opLatency = new EnumMap<>(Op.class);
            for (Op op : Op.values()) {
                Histogram h = latency.get(op).getIntervalHistogram();
                opCounts.put(op, counts.get(op).sum());
                opLatency.put(op, h);
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("op", op.label);
                line.put("offered_per_s", rate > 0 ? rate * countOf(op) / PATTERN.length : "max");
                line.put("calls", counts.get(op).sum());
                line.put("per_s", counts.get(op).sum() / elapsed);
                line.putAll(Report.percentilesMs("latency_", h));
                if (op == Op.CANCEL) {
                    line.put("far_cancelled", cancelFarChanged.sum());
                    line.put("near_cancelled", cancelNearChanged.sum());
                    line.put("near_too_late", cancelNearTooLate.sum());
                    line.put("other", cancelOther.sum());
                    line.put("nothing_to_cancel", cancelNothing.sum());
                }
                report.result("mixed", line);
            }
            Set<JobId> cancelledThatFired = new HashSet<>(cancelledIds);
            cancelledThatFired.retainAll(firedIds);
            Histogram late = lateness.getIntervalHistogram();
            Map<String, Object> firing = new LinkedHashMap<>();
            firing.put("callers", CALLERS);
            firing.put("seconds", duration.toSeconds());
            firing.put("calls", opCounts.values().stream().mapToLong(Long::longValue).sum());
            firing.put("failed_calls", failures.sum());
            firing.put("behind_max_ms", rate > 0 ? maxBehindNanos.get() / 1e6 : "-");
            firing.put("near_fired", nearFired.sum());
            firing.put("far_fired", farFired.sum());
            firing.put("measured", late.getTotalCount());
            firing.put("early", early.sum());
            firing.put("lateness_p50_ms", late.getValueAtPercentile(50) / 1000.0);
            firing.put("lateness_p90_ms", late.getValueAtPercentile(90) / 1000.0);
            firing.putAll(Report.percentilesMs("lateness_", late));
            firing.put("cancelled", cancelledIds.size());
            firing.put("cancelled_fired", cancelledThatFired.size());
            report.result("mixed-firing", firing);
            System.out.printf(Locale.ROOT, "  check: %,d jobs cancelled, %d of them fired: %s%n", cancelledIds.size(),
                    cancelledThatFired.size(), cancelledThatFired.isEmpty() ? "OK"
                            : "CANCELLED JOBS FIRED, e.g. " + cancelledThatFired.iterator().next());
            return new Result(opCounts, opLatency, elapsed, nearFired.sum(), farFired.sum(), early.sum(), late,
                    cancelledThatFired.size());
        } finally {
            BenchEngines.delete(dir);
        }
    }

    private static int countOf(Op op) {
        int n = 0;
        for (Op o : PATTERN) {
            n += o == op ? 1 : 0;
        }
        return n;
    }
}
