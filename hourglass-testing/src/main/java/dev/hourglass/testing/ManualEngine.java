package dev.hourglass.testing;

import dev.hourglass.core.engine.EngineLoops;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An {@link Hourglass} whose time and background loops move only when the test says so, in the manner of
 * db-scheduler's {@code ManualScheduler}: the test moves the clock ({@link #advance}) and runs what is due
 * ({@link #runDue}); nothing fires by itself, and no test sleeps to let time pass.
 *
 * <pre>{@code
 * try (ManualEngine engine = ManualEngine.start(Hourglass.builder()
 *         .store(SqliteJobStore.open(dir.resolve("test.db")))
 *         .handler("send-reminder", ctx -> { sent.add(ctx.id()); return Outcome.succeeded(); }),
 *         Instant.parse("2030-01-01T00:00:00Z"))) {
 *     engine.hourglass().schedule(JobRequest.of("send-reminder", bytes), When.after(Duration.ofHours(24)));
 *     engine.advance(Duration.ofHours(23));
 *     assertThat(engine.runDue()).isZero();           // not yet
 *     engine.advance(Duration.ofHours(1));
 *     assertThat(engine.runDue()).isEqualTo(1);       // ran, and its outcome is stored
 * }
 * }</pre>
 *
 * <p>The engine is the real one, on the store the test gives it: jobs are written, claimed, started and finished
 * there exactly as in production. Only the clock (a {@link ManualClock}) and the loops that act on time (the timer,
 * the horizon rounds with their lease renewal and rescue, the attempt timeouts) are the test's; the store writer and
 * the dispatcher keep their threads, and each step waits until they have nothing left in flight. Handlers run on
 * their own threads as in production, so a handler that blocks makes a step wait until its {@link #stepLimit} and fail;
 * move the clock past its timeout and {@link #runDue} again to see the timeout recorded.
 */
public final class ManualEngine implements AutoCloseable {
    /** By default, how long in real time a step waits for the engine to have nothing in flight before it fails. */
    public static final Duration STEP_LIMIT = Duration.ofSeconds(30);
    /** How often a step looks whether the engine is idle (real time). */
    private static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final ManualClock clock;
    private final Hourglass hourglass;
    private final EngineLoops loops;
    /** Real time, for the bound on a step's wait only. */
    private final Ticker realTime = SystemTime.ticker();
    private volatile Duration stepLimit = STEP_LIMIT;

    private ManualEngine(ManualClock clock, Hourglass hourglass) {
        this.clock = clock;
        this.hourglass = hourglass;
        this.loops = hourglass.loops();
    }

    /**
     * Builds and starts the engine {@code builder} describes (store, handlers, configuration), on a manual clock set
     * to {@code start} and with its loops driven by this driver. The builder's clock and loop settings are replaced.
     */
    public static ManualEngine start(Hourglass.Builder builder, Instant start) {
        return start(builder, new ManualClock(Objects.requireNonNull(start, "start")));
    }

    /**
     * As {@link #start(Hourglass.Builder, Instant)}, on a clock the test already has: several engines on one clock
     * are nodes of one cluster that agree on the time (a rescue, a hand-over at shutdown).
     */
    public static ManualEngine start(Hourglass.Builder builder, ManualClock clock) {
        Objects.requireNonNull(builder, "builder");
        Objects.requireNonNull(clock, "clock");
        Hourglass hourglass = builder.clock(clock, clock).manualLoops().build();
        return new ManualEngine(clock, hourglass);
    }

    /** How long, in real time, a step waits for the engine to be idle before it fails ({@link #STEP_LIMIT}). */
    public ManualEngine stepLimit(Duration limit) {
        if (limit.isNegative() || limit.isZero()) {
            throw new IllegalArgumentException("stepLimit must be > 0, was " + limit);
        }
        this.stepLimit = limit;
        return this;
    }

    /** The engine, for scheduling, cancelling and reading jobs as the application does. */
    public Hourglass hourglass() {
        return hourglass;
    }

    /** The engine's clock: wall clock and ticker, moved only by {@link #advance} (or by the test, directly). */
    public ManualClock clock() {
        return clock;
    }

    /** The engine's wall-clock time now. */
    public Instant now() {
        return clock.instant();
    }

    /** Moves the wall clock and the ticker forward by {@code duration}. Nothing runs until a step is called. */
    public ManualEngine advance(Duration duration) {
        clock.advance(duration);
        return this;
    }

    /**
     * Runs everything that is due now, to the end: a horizon round (claims the jobs due within the horizon, so jobs
     * scheduled far ahead are found as well), then fires what is due, lets the attempts run and their outcomes be
     * stored, runs the attempt timeouts that are due, and repeats while anything fired (a retry due at once runs in
     * the same call). Returns how many attempts were started.
     *
     * @throws IllegalStateException if the engine still has work in flight after the {@link #stepLimit} of real
     *     time (a handler that blocks, for example)
     */
    public int runDue() {
        int fired = 0;
        while (true) {
            loops.runHorizonRound();
            int now = loops.fireDue();
            awaitIdle();
            fired += now;
            if (now == 0) {
                return fired;
            }
        }
    }

    /**
     * Starts what is due now without waiting for it: a horizon round, then the timer's turn. Returns how many jobs
     * were handed on. For tests that look at attempts while they run, such as a timeout: wait until the handler runs
     * (a latch in the handler), {@link #advance} past its timeout, then {@link #runTimeouts}.
     */
    public int startDue() {
        loops.runHorizonRound();
        return loops.fireDue();
    }

    /**
     * One horizon round alone: renews this node's lease, rescues the claims of nodes whose lease expired (their
     * jobs become claimable), claims the jobs due within the horizon into the timer, prunes old terminal jobs.
     * Fires nothing; {@link #runDue} does.
     */
    public void runHorizonRound() {
        loops.runHorizonRound();
        awaitIdle();
    }

    /**
     * The rescue of other nodes' expired claims, as a live node runs it in each horizon round: a node whose lease
     * ran out (move the clock past the lease TTL first) has its SCHEDULED jobs handed back and its RUNNING jobs put
     * back to SCHEDULED, due now.
     */
    public void runRescue() {
        runHorizonRound();
    }

    /**
     * Runs the attempt timeouts (and outcome-write retries) that are due on the ticker now; when any ran, waits until
     * the engine is idle, so that the timed-out attempts' outcomes are stored. Returns how many ran. {@link #runDue}
     * runs them too.
     */
    public int runTimeouts() {
        int ran = loops.runDueDelays();
        if (ran > 0) {
            awaitIdle();
        }
        return ran;
    }

    /** One round of the reconciler (writes whose answer was lost in an outage). */
    public void runReconcilerRound() {
        loops.runReconcilerRound();
        awaitIdle();
    }

    /**
     * Waits, in real time and at most the {@link #stepLimit}, until no due job waits for a slot, no attempt runs and no
     * write is pending, running due timeouts meanwhile.
     *
     * @throws IllegalStateException when the limit passes first
     */
    public void awaitIdle() {
        Duration limit = stepLimit;
        long deadline = realTime.nanoTime() + limit.toNanos();
        while (true) {
            loops.runDueDelays();
            if (loops.idle()) {
                return;
            }
            if (realTime.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the engine still has work in flight after " + limit.toMillis()
                        + " ms (" + hourglass.inFlight() + " attempts running, " + hourglass.queuedDue()
                        + " due jobs waiting): a handler may be blocked; move the clock past its timeout");
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /** Closes the engine (graceful: claims are handed back to the store). */
    @Override
    public void close() {
        hourglass.close();
    }
}
