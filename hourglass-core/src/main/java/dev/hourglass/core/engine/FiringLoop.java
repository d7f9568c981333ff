package dev.hourglass.core.engine;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.timer.TimingWheel;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that drives the {@link TimingWheel}. Producers (API callers, the horizon loader, finished retries)
 * enqueue commands lock-free and unpark the thread only when their entry is due before its planned wake-up; the
 * thread moves commands into the wheel, advances it to the wall clock, and hands due entries to the dispatcher.
 *
 * <p>Clocks: the wall clock decides "is it due" (due times are wall-clock instants). Right before an entry is
 * handed on, the wall clock is read again; if it is behind the entry's due time (the clock stepped back), the entry
 * waits in {@code heldForClock} until the wall clock reaches it: never early.
 */
final class FiringLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FiringLoop.class);
    /** Wake at least this often, so that a wall clock that steps forward is noticed promptly. */
    private static final long MAX_PARK_MILLIS = 50;
    /**
     * The most commands one wake-up moves from the inbox into the wheel. A producer in a loop (a horizon round
     * claiming a backlog, a burst of schedules) can otherwise keep the thread draining while due entries wait to be
     * handed on; past the cap, the thread fires what is due and comes back for the rest without parking.
     */
    static final int MAX_COMMANDS_PER_WAKE = 100_000;

    private sealed interface Command {}

    /** {@code keepSameClaim}: keep an entry already held for the same claim (see {@link #addUnlessHeld}). */
    private record Add(TimerEntry entry, boolean keepSameClaim) implements Command {}

    /** @param counted the size was lowered when the removal was asked ({@link #removeYielded}) */
    private record Remove(JobId id, boolean counted) implements Command {}

    private final InstantSource wallClock;
    private final Consumer<List<TimerEntry>> dispatcher;
    private final int maxCommandsPerWake;
    private final ConcurrentLinkedQueue<Command> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final Thread thread;
    /** The wall-clock millisecond the thread plans to wake at; producers unpark it only for earlier entries. */
    private volatile long plannedWakeMillis = Long.MIN_VALUE;
    private volatile boolean running = true;
    /**
     * The wall-clock millisecond of the last step that emptied the inbox: every entry added before that step, and due
     * by then, has been handed on (or held for a clock that stepped back). Long.MIN_VALUE before the first.
     */
    private volatile long handedOnThroughMillis = Long.MIN_VALUE;

    // Owned by the loop thread only.
    private final TimingWheel<JobId, TimerEntry> wheel;
    private final PriorityQueue<TimerEntry> heldForClock =
            new PriorityQueue<>((a, b) -> Long.compare(a.dueMillis(), b.dueMillis()));
    /** Entries found due in a step, handed on at its end. */
    private final List<TimerEntry> due = new ArrayList<>();

    FiringLoop(InstantSource wallClock, Consumer<List<TimerEntry>> dispatcher) {
        this(wallClock, dispatcher, MAX_COMMANDS_PER_WAKE);
    }

    /** @param maxCommandsPerWake the most commands one step moves into the wheel (tests make it small) */
    FiringLoop(InstantSource wallClock, Consumer<List<TimerEntry>> dispatcher, int maxCommandsPerWake) {
        this.wallClock = wallClock;
        this.dispatcher = dispatcher;
        this.maxCommandsPerWake = maxCommandsPerWake;
        this.wheel = new TimingWheel<>(wallClock.millis());
        this.thread = Thread.ofPlatform().name("hourglass-timer").daemon(true).unstarted(this::run);
        this.thread.setPriority(Thread.MAX_PRIORITY);
    }

    void start() {
        start(null);
    }

    /** Starts the thread; what escapes its loop (an {@link Error}) goes to {@code supervisor}. */
    void start(Thread.UncaughtExceptionHandler supervisor) {
        thread.setUncaughtExceptionHandler(supervisor);
        thread.start();
    }

    /**
     * Adds an entry, or replaces the one of the same job, unless that one is under a newer claim (see
     * {@link #schedule}). Safe from any thread.
     */
    void add(TimerEntry entry) {
        enqueue(new Add(entry, false));
    }

    /**
     * Adds an entry unless the timer holds one for the same claim (same job and fencing token), which it then keeps.
     * For entries read back from the store, which may be older than the timer's: under one claim only a retry kept
     * on this node moves the due time, and it puts its own entry in; a read taken before that retry must not
     * replace that entry with the attempt's earlier due time (its start would win the compare-and-set: same token).
     * An entry of a newer claim (a higher token) replaces the held one, which could only lose its start anyway.
     * Safe from any thread.
     */
    void addUnlessHeld(TimerEntry entry) {
        enqueue(new Add(entry, true));
    }

    private void enqueue(Add add) {
        TimerEntry entry = add.entry();
        size.incrementAndGet(); // counted at once for the loader's capacity check; corrected if it replaces one
        inbox.add(add);
        if (entry.dueMillis() < plannedWakeMillis) {
            LockSupport.unpark(thread);
        }
    }

    /** Drops an entry (cancelled or rescheduled elsewhere). Safe from any thread; lazy, never wakes the thread. */
    void remove(JobId id) {
        inbox.add(new Remove(id, false));
    }

    /**
     * Drops the entry of a job this node yielded to other nodes, and lowers {@link #size} at once: the loader sizes
     * its next claims by it, and a lazy removal would count the entry until the thread's next wake, seconds away when
     * nothing is due. A yielded job is due after the near window, so its entry is in the wheel or in the inbox, not
     * handed on; should it not be, the count is put back when the removal is drained. Safe from any thread.
     */
    void removeYielded(JobId id) {
        size.decrementAndGet();
        inbox.add(new Remove(id, true));
    }

    /**
     * True once every entry added before {@code millis} (wall clock) that was due by then has been handed to the
     * dispatcher. When not yet, wakes the thread, whose next step (at once) moves the mark forward: a thread parked
     * with nothing due would otherwise not step until its next entry. Safe from any thread.
     */
    boolean handedOnThrough(long millis) {
        if (handedOnThroughMillis >= millis) {
            return true;
        }
        LockSupport.unpark(thread);
        return false;
    }

    /**
     * Waits, at most about {@code maxWaitMillis}, until {@link #handedOnThrough} {@code millis}: the thread steps at
     * once when woken, so this is a millisecond unless the machine is starved.
     */
    void awaitHandedOnThrough(long millis, int maxWaitMillis) {
        for (int waited = 0; waited < maxWaitMillis && !handedOnThrough(millis); waited++) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /** Entries held in memory, approximately (for the loader's capacity check). */
    int size() {
        return size.get();
    }

    private void run() {
        while (running) {
            try {
                if (step().inboxDrained()) {
                    park();
                }
            } catch (RuntimeException e) {
                log.error("timer loop error; continuing", e);
            }
        }
    }

    /** What one {@link #step} did: entries handed to the dispatcher, and whether the inbox was emptied. */
    record Step(int fired, boolean inboxDrained) {}

    /**
     * One turn of the loop: moves up to {@code maxCommandsPerWake} commands into the wheel, advances it to the wall
     * clock, and hands due entries on. Runs on the loop's thread, or, under manual loops, on the driver's
     * ({@link #fireDue}); never on both.
     */
    Step step() {
        long began = wallClock.millis(); // before the drain: what was added by then is drained if it empties
        boolean drained = drainInbox(maxCommandsPerWake);
        long now = wallClock.millis();
        wheel.advance(now, (id, entry) -> due.add(entry));
        releaseHeld(now, due);
        Step step = new Step(handOn(due), drained);
        if (drained) {
            handedOnThroughMillis = began;
        }
        return step;
    }

    /**
     * For manual loops (no thread started): moves every command into the wheel and hands on every entry due on the
     * wall clock now. Returns how many entries were handed on.
     */
    int fireDue() {
        int fired = 0;
        Step step;
        do {
            step = step();
            fired += step.fired();
        } while (!step.inboxDrained());
        return fired;
    }

    /** Moves at most {@code max} commands into the wheel; true when the inbox was emptied. */
    private boolean drainInbox(int max) {
        Command command;
        for (int moved = 0; moved < max; moved++) {
            if ((command = inbox.poll()) == null) {
                return true;
            }
            switch (command) {
                case Add a -> schedule(a);
                case Remove r -> {
                    boolean cancelled = wheel.cancel(r.id());
                    if (cancelled && !r.counted()) {
                        size.decrementAndGet();
                    } else if (!cancelled && r.counted()) {
                        size.incrementAndGet();
                    }
                }
            }
        }
        return inbox.isEmpty();
    }

    /**
     * Schedules the added entry, replacing the entry of the same job, unless that one holds a newer claim (a higher
     * fencing token: every write that takes a claim away increments it), or the same claim when the added entry
     * was read back from the store ({@link #addUnlessHeld}). Why: an entry kept aside during an outage (parked, or
     * re-read for a doubt or a claim sweep) may come back after another node rescued the job and this node claimed
     * it anew; replacing the live entry with it would leave a start that can only be refused, and the job claimed by
     * this node but in no timer: never fired while the node heartbeats. The timer holds one entry per job, so
     * re-adding never grows the count (else the loader would claim less and less).
     */
    private void schedule(Add add) {
        TimerEntry entry = add.entry();
        TimerEntry held = wheel.get(entry.id());
        if (held != null) {
            size.decrementAndGet(); // the job is counted once, for the entry held
            if (held.fencingToken() > entry.fencingToken()
                    || (add.keepSameClaim() && held.fencingToken() == entry.fencingToken())) {
                log.debug("job {}: kept its entry under fencing token {} over one read back or kept aside ({})",
                        entry.id(), held.fencingToken(), entry.fencingToken());
                return;
            }
        }
        wheel.schedule(entry.id(), entry.dueMillis(), entry);
    }

    /** Moves entries whose due time the wall clock has reached from the held queue to {@code due}. */
    private void releaseHeld(long now, List<TimerEntry> due) {
        while (!heldForClock.isEmpty() && heldForClock.peek().dueMillis() <= now) {
            due.add(heldForClock.poll());
        }
    }

    /**
     * Checks the wall clock once more right before firing; anything not yet due (clock stepped back) is held.
     * Returns how many entries were handed on.
     */
    private int handOn(List<TimerEntry> due) {
        if (due.isEmpty()) {
            return 0;
        }
        long now = wallClock.millis();
        List<TimerEntry> fire = new ArrayList<>(due.size());
        for (TimerEntry entry : due) {
            if (entry.dueMillis() <= now) {
                fire.add(entry);
            } else {
                heldForClock.add(entry);
            }
        }
        due.clear();
        if (!fire.isEmpty()) {
            size.addAndGet(-fire.size());
            dispatcher.accept(fire);
        }
        return fire.size();
    }

    private void park() {
        long next = wheel.nextDueMillis();
        if (!heldForClock.isEmpty()) {
            next = Math.min(next, heldForClock.peek().dueMillis());
        }
        long now = wallClock.millis();
        long waitMillis = Math.min(MAX_PARK_MILLIS, next - now);
        plannedWakeMillis = now + Math.max(waitMillis, 0);
        if (waitMillis > 0 && inbox.isEmpty()) {
            // parkNanos may return early (spuriously or on unpark); the loop simply re-checks.
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(waitMillis));
        }
        plannedWakeMillis = Long.MIN_VALUE;
    }

    /** Asks the thread to end after its current turn, without waiting for it (it may be the caller). */
    void stop() {
        running = false;
        LockSupport.unpark(thread);
    }

    /** Stops the loop. Entries that never fired stay claimed in the store; the engine hands them back. */
    @Override
    public void close() {
        stop();
        if (!thread.isAlive()) {
            return; // never started: manual loops
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
