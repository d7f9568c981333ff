package dev.hourglass.core.engine;

import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.util.Comparator;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks after delays measured on the engine's injected {@link Ticker}: attempt watchdogs and outcome-write
 * retries. Because the delays are read from the ticker and not from a scheduled executor's own clock, a test's manual
 * clock drives them: with threads, the delays thread notices a ticker that a test moved within {@link #MAX_PARK};
 * with manual loops ({@link EngineLoops}) no thread runs and the driver calls {@link #runDue()}.
 *
 * <p>Tasks run on the delays thread (or the driver's) and must be short: they interrupt a worker, record an outcome,
 * enqueue a write. A task that throws is logged; the others still run. A cancelled task is removed at once, so the
 * set holds only live delays (about one per running attempt), and cancelling costs O(log n).
 */
final class Delays implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Delays.class);
    /** The longest the thread parks without reading the ticker again: a manual ticker may move at any time. */
    static final Duration MAX_PARK = Duration.ofMillis(50);

    /** A delayed task; {@link #cancel} withdraws it unless it already ran. */
    interface Delayed {
        /** Returns true when the task was withdrawn before it ran. */
        boolean cancel();
    }

    private final class Task implements Delayed {
        final long deadlineNanos;
        final long seq;
        final Runnable work;

        Task(long deadlineNanos, long seq, Runnable work) {
            this.deadlineNanos = deadlineNanos;
            this.seq = seq;
            this.work = work;
        }

        @Override
        public boolean cancel() {
            return pending.remove(this);
        }
    }

    private final Ticker ticker;
    private final ConcurrentSkipListSet<Task> pending = new ConcurrentSkipListSet<>(
            Comparator.<Task>comparingLong(t -> t.deadlineNanos).thenComparingLong(t -> t.seq));
    /** Breaks ties between equal deadlines, so that two tasks never compare equal. */
    private final AtomicLong sequence = new AtomicLong();
    private final Thread thread;
    private volatile boolean open = true;
    /** The deadline the thread parks until; a task due earlier wakes it. */
    private volatile long plannedWakeNanos = Long.MAX_VALUE;

    /** The monotonic clock these delays run on, for measuring beside them. */
    Ticker ticker() {
        return ticker;
    }

    Delays(Ticker ticker) {
        this.ticker = ticker;
        this.thread = Thread.ofPlatform().name("hourglass-delays").daemon(true).unstarted(this::run);
    }

    /** Starts the thread that runs due tasks. Not called under manual loops: the driver calls {@link #runDue}. */
    void start() {
        start(null);
    }

    /** Starts the thread; what escapes its loop (an {@link Error}) goes to {@code supervisor}. */
    void start(Thread.UncaughtExceptionHandler supervisor) {
        thread.setUncaughtExceptionHandler(supervisor);
        thread.start();
    }

    /**
     * Runs {@code work} once {@code delay} has passed on the ticker.
     *
     * @throws RejectedExecutionException once closed
     */
    Delayed schedule(Runnable work, Duration delay) {
        if (!open) {
            throw new RejectedExecutionException("closed");
        }
        long now = ticker.nanoTime();
        Task task = new Task(now + delay.toNanos(), sequence.incrementAndGet(), work);
        pending.add(task);
        if (task.deadlineNanos - plannedWakeNanos < 0) {
            LockSupport.unpark(thread);
        }
        return task;
    }

    /** Runs every task whose deadline has passed on the ticker, earliest first; returns how many ran. */
    int runDue() {
        int ran = 0;
        long now = ticker.nanoTime();
        Task head;
        while (open && (head = earliest()) != null && head.deadlineNanos - now <= 0) {
            // Exactly one of this removal and a concurrent cancel succeeds: a cancelled task never runs.
            if (!pending.remove(head)) {
                continue;
            }
            try {
                head.work.run();
            } catch (RuntimeException e) {
                log.error("delayed task failed; continuing", e);
            }
            ran++;
        }
        return ran;
    }

    private Task earliest() {
        try {
            return pending.first();
        } catch (NoSuchElementException empty) {
            return null;
        }
    }

    /** Delays not yet run (for tests and the manual driver). */
    int pending() {
        return pending.size();
    }

    private void run() {
        while (open) {
            runDue();
            long now = ticker.nanoTime();
            long wait = MAX_PARK.toNanos();
            Task head = earliest();
            if (head != null) {
                wait = Math.min(wait, Math.max(0, head.deadlineNanos - now));
            }
            plannedWakeNanos = now + wait;
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
            }
            plannedWakeNanos = Long.MAX_VALUE;
        }
    }

    /** Stops; tasks not yet run are dropped (the engine hands their jobs back at shutdown). */
    @Override
    public void close() {
        open = false;
        pending.clear();
        LockSupport.unpark(thread);
        if (thread.isAlive()) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
