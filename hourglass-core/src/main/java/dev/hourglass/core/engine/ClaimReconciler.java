package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.Claim;
import dev.hourglass.core.store.ClaimsOfParams;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the jobs this node may hold a claim on without holding them in its timer, and puts them back.
 *
 * <p>Why: the timer is the only thing that fires a claimed job, and a claim is rescued only when its node's lease
 * expires, which never happens while the node lives and heartbeats. So a write that leaves a job claimed by this
 * node, but whose success the engine never saw, would orphan the job until a restart. Three cases:
 * <ul>
 *   <li><b>Parked</b>: a start failed and was not applied (the store was unreachable, the usual case in an outage),
 *       or was not tried because this node's lease had run out: the job is still SCHEDULED, claimed by this node
 *       under the same fencing token (unless another node rescued it meanwhile). Its timer entry is kept here and
 *       goes back into the timer as it is once the store answers again (the committer saw a write succeed) and the
 *       lease holds (a round renewed it): no read needed, so a long outage's backlog is back in the timer within
 *       one round; a claim rescued meanwhile fails its start. Firing pauses meanwhile.</li>
 *   <li><b>Doubted</b>: the answer to a commit was lost
 *       ({@link dev.hourglass.core.store.StoreUnavailableException#outcomeUnknown()}), or a caller withdrew a write
 *       that may have been committing: a self-claimed insert, a reschedule, a retry kept on this node, or a start
 *       (the job is then RUNNING on this node, with no attempt running). Rare: it takes a connection that breaks
 *       during a commit. The doubted jobs are read from the store (for a while: see {@link #settle}) and what is
 *       really there decides:
 *       SCHEDULED and owned by this node goes back into the timer with the stored fencing token; RUNNING on this
 *       node under the token of a start this node could not confirm is handed to the dispatcher to run (that attempt
 *       is already counted); anything else is someone else's business. A store that still fails leaves the rest
 *       for the next round, so nothing is forgotten during an outage.</li>
 *   <li><b>Swept</b>: the answer to a horizon claim ({@code claimDue}) was lost. It names no job, yet if it
 *       committed, its jobs are SCHEDULED and claimed by this node under new fencing tokens, and only this node's
 *       timer could fire them (its lease never lapses while it heartbeats). So a <i>claim sweep</i> pages through
 *       every SCHEDULED claim the store says this node holds ({@link JobStore#claimsOf}, id order, no payloads)
 *       and offers each to the timer, which keeps an entry it holds for the same claim. Like a doubt, the sweep is
 *       repeated for {@link #LATE_COMMIT_GRACE} (1 s, 2 s, 4 s... after the doubt, monotonic), since a late COMMIT
 *       may still land; a page that fails resumes from its cursor next round, and a sweep ends only with a
 *       complete pass that started after the grace, so an outage forgets nothing.</li>
 * </ul>
 * Rounds run on the loader's thread, after its round. Each round reads at most {@link #READS_PER_ROUND} doubted
 * jobs and {@link #SWEEP_CLAIMS_PER_ROUND} swept claims, so that a long outage under load does not turn one round
 * into minutes of reads (and delay the next heartbeat).
 *
 * <p>Invariant: only the store decides; an entry put back never replaces one the timer holds for a newer claim (a
 * higher fencing token), nor, when read back from the store, one it holds for the same claim (see
 * {@link FiringLoop#addUnlessHeld}); a stale one that fires loses the start compare-and-set. So no case can make a
 * job fire twice, nor leave a claim of this node in no timer.
 *
 * <p>Capacity: swept claims go into the timer whatever {@code maxTimerEntries} says. Re-offering the claims the timer
 * holds does not grow it; but the lost claim's own jobs were not counted when the rounds after it claimed up to the
 * limit, so each lost claim may take the timer past the limit by up to one claim batch. Accepted: they are this
 * node's to fire, nobody else may, and the rounds claim nothing more until the timer is below the limit again.
 */
final class ClaimReconciler {
    private static final Logger log = LoggerFactory.getLogger(ClaimReconciler.class);
    /** Reads per round: a long outage under load must not turn one round into minutes of reads. */
    private static final int READS_PER_ROUND = 2_000;
    /** How long a doubted job is checked; see {@link #settle}. Monotonic clock. */
    static final Duration LATE_COMMIT_GRACE = Duration.ofSeconds(60);
    /** The first re-check after the first look; then doubling. */
    private static final Duration FIRST_RECHECK = Duration.ofSeconds(1);
    private static final long NO_TOKEN = Long.MIN_VALUE;
    /** Claims per page of a sweep: about 60 bytes each (no payload), so a page is small whatever the jobs carry. */
    static final int SWEEP_PAGE = 1_000;
    /**
     * Claims a sweep reads per round: tens of milliseconds of index range reads. A node at the default limit of a
     * million timer entries is swept in 20 rounds.
     */
    static final int SWEEP_CLAIMS_PER_ROUND = 50_000;
    private static final long NO_SWEEP = Long.MIN_VALUE;

    /** Which write left the doubt; only a start's doubt may find the job RUNNING and resume it. */
    enum Cause { INSERT, START, FINISH, RESCHEDULE }

    /**
     * A job whose claim by this node is uncertain. {@code fencingToken} is the token of the start that could not be
     * confirmed (only for {@link Cause#START}).
     */
    record Doubt(JobId id, Cause cause, long fencingToken) {
        static Doubt of(JobId id, Cause cause) {
            return new Doubt(id, cause, -1);
        }
    }

    /** A doubted start put back in the timer: the claim's fencing token, and since when (monotonic). */
    private record Retimed(long fencingToken, long sinceNanos) {}

    /**
     * A doubt being checked: since when (monotonic), when next, how often so far, and the fencing token of the
     * entry last put in the timer for it ({@link #NO_TOKEN} if none), so each claim goes into the timer once.
     */
    private record Checking(Doubt doubt, long sinceNanos, long nextCheckNanos, int checks, long addedToken) {}

    /**
     * A claim sweep under way: since when (monotonic: the latest lost claim answer), when its next pass may start,
     * how many passes are complete, where the current pass is ({@code after}: the last claim read, null before its
     * first page), when the current pass started, and how many claims the passes offered to the timer so far.
     */
    private record Sweep(long sinceNanos, long nextPassNanos, int passes, JobId after, long passStartNanos,
            long offered) {}

    private final String nodeId;
    private final TargetNames targets;
    private final JobStore store;
    private final Consumer<TimerEntry> timer;
    private final Predicate<Job> resume;
    private final BooleanSupplier mayFire;
    private final Ticker ticker;
    private final Map<JobId, Checking> doubts = new ConcurrentHashMap<>();
    /**
     * Doubted starts found SCHEDULED and put back in the timer under the same claim, with when (monotonic): the lost
     * start's COMMIT may still land and win over the timer's own start of that claim (see {@link #startRefused}).
     * Kept for {@link #LATE_COMMIT_GRACE}.
     */
    private final Map<JobId, Retimed> retimedStarts = new ConcurrentHashMap<>();
    private final Queue<TimerEntry> parked = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean parkingLogged = new AtomicBoolean();
    /** When a claim answer was last lost (monotonic), until the next round takes it; {@link #NO_SWEEP} if not. */
    private final AtomicLong sweepAsked = new AtomicLong(NO_SWEEP);
    /** The sweep under way, or null; the loader's thread only. */
    private Sweep sweep;
    /** This round's counts, for its log line; rounds run on one thread. */
    private int timed;
    private int resumed;

    /**
     * @param timer adds an entry to this node's timer, keeping one it holds for the same claim
     *     ({@link FiringLoop#addUnlessHeld})
     * @param resume runs an attempt whose start was committed but never confirmed; false if no worker is free now
     * @param mayFire whether the store answered the latest write and this node's lease holds (parked entries, and
     *     attempts to resume, wait for it)
     * @param ticker the monotonic clock that spaces the checks of a doubted job
     */
    ClaimReconciler(String nodeId, JobStore store, Consumer<TimerEntry> timer, Predicate<Job> resume,
            BooleanSupplier mayFire, Ticker ticker) {
        this(nodeId, store, timer, resume, mayFire, ticker, TargetNames.OFF);
    }

    /** @param targets names the targets of the jobs it puts back in the timer */
    ClaimReconciler(String nodeId, JobStore store, Consumer<TimerEntry> timer, Predicate<Job> resume,
            BooleanSupplier mayFire, Ticker ticker, TargetNames targets) {
        this.targets = targets;
        this.nodeId = nodeId;
        this.store = store;
        this.timer = timer;
        this.resume = resume;
        this.mayFire = mayFire;
        this.ticker = ticker;
    }

    /**
     * Keeps the entry of a start that failed without being applied (or was not tried: {@code why}) until the store
     * answers again and this node's lease holds. Safe from any thread; never blocks.
     */
    void park(TimerEntry entry, String why) {
        if (parkingLogged.compareAndSet(false, true)) {
            log.warn("firing paused: could not start job {} ({}); due jobs wait here until the store answers again "
                    + "and this node's lease is renewed", entry.id(), why);
        }
        parked.add(entry);
    }

    /** Remembers a job to check once the store answers. Safe from any thread; never blocks. */
    void doubt(Doubt doubt) {
        if (doubts.isEmpty()) {
            log.warn("job {}: the answer to a commit ({}) was lost; the job is checked in the store until its fate is "
                    + "known (further ones are logged at debug)", doubt.id(), doubt.cause());
        } else {
            log.debug("job {}: the answer to a commit ({}) was lost; checking the store", doubt.id(), doubt.cause());
        }
        long now = ticker.nanoTime();
        doubts.put(doubt.id(), new Checking(doubt, now, now, 0, NO_TOKEN));
    }

    /**
     * The dispatcher's start of {@code entry} lost its compare-and-set. Usually the job was cancelled or rescheduled
     * meanwhile, and nothing is to be done. But if the entry is a doubted start that {@link #settle} found SCHEDULED
     * and put back in the timer, the lost start's COMMIT may have landed late, after that look and before this
     * start (a COMMIT held up in the network reaches the server after the client gave up on it): the job is then
     * RUNNING on this node under that token, and no attempt runs for it, since this node's own start was refused.
     * The store is asked again, and a job found so is run (its attempt is already counted). Safe from any thread;
     * never blocks; a map lookup when nothing was put back.
     */
    void startRefused(TimerEntry entry) {
        Retimed retimed = retimedStarts.get(entry.id());
        if (retimed != null && retimed.fencingToken() == entry.fencingToken()
                && retimedStarts.remove(entry.id(), retimed)) {
            doubt(new Doubt(entry.id(), Cause.START, entry.fencingToken()));
        }
    }

    private void forgetOldRetimedStarts() {
        if (retimedStarts.isEmpty()) {
            return;
        }
        long now = ticker.nanoTime();
        retimedStarts.values().removeIf(r -> now - r.sinceNanos() >= LATE_COMMIT_GRACE.toNanos());
    }

    /**
     * The answer to a horizon claim was lost: the claim may have committed, leaving jobs claimed by this node that
     * its timer never got. Starts a claim sweep at the next round (or restarts the one under way: the new claim's
     * jobs may lie before its cursor, and its grace starts now). Safe from any thread; never blocks.
     */
    void claimAnswerLost() {
        sweepAsked.set(ticker.nanoTime());
    }

    /** One round. Never throws: a store that fails ends the round, and the rest waits for the next. */
    void runRound() {
        unpark();
        forgetOldRetimedStarts();
        sweep();
        if (doubts.isEmpty()) {
            return;
        }
        int read = 0;
        timed = 0;
        resumed = 0;
        long now = ticker.nanoTime();
        try {
            for (Checking checking : doubts.values()) {
                if (read >= READS_PER_ROUND) {
                    break;
                }
                if (now - checking.nextCheckNanos() < 0) {
                    continue;
                }
                Optional<Job> stored = store.find(checking.doubt().id());
                read++;
                Checking next = settle(checking, stored.orElse(null), now);
                // By identity, not equals: settle may have doubted the job anew (startRefused), with a Checking
                // that a ticker which has not moved makes equal to this one, and that one must stay.
                doubts.computeIfPresent(checking.doubt().id(), (id, current) -> current == checking ? next : current);
            }
        } catch (StoreException e) {
            log.debug("reconciling claims: the store still fails ({}); {} doubts wait for the next round",
                    e.toString(), doubts.size());
        } catch (RuntimeException e) {
            log.error("reconciling claims failed; retrying next round", e);
        }
        if (timed + resumed > 0) {
            log.info("after lost commit answers: {} jobs back in the timer, {} started attempts resumed; {} jobs "
                    + "still checked", timed, resumed, doubts.size());
        }
    }

    /**
     * Goes on with the claim sweep, if one is under way and its next pass is due: reads pages of this node's
     * SCHEDULED claims from the cursor, up to {@link #SWEEP_CLAIMS_PER_ROUND}, and offers each to the timer. A pass
     * that reaches the end schedules the next one (1 s, 2 s, 4 s... later, the last one at the end of the grace), or
     * ends the sweep if the grace is over. A store that fails keeps the cursor for the next round.
     */
    private void sweep() {
        long asked = sweepAsked.getAndSet(NO_SWEEP);
        if (asked != NO_SWEEP) {
            if (sweep == null) {
                log.warn("the answer to a horizon claim was lost: the claim may have committed, leaving jobs claimed "
                        + "by this node that its timer does not hold; sweeping this node's claims in the store back "
                        + "into the timer, again for {} s in case the commit lands late",
                        LATE_COMMIT_GRACE.toSeconds());
            } else {
                log.debug("another horizon claim answer was lost; the claim sweep starts over");
            }
            sweep = new Sweep(asked, asked, 0, null, asked, 0);
        }
        long now = ticker.nanoTime();
        if (sweep == null || now - sweep.nextPassNanos() < 0) {
            return;
        }
        if (sweep.after() == null) {
            sweep = new Sweep(sweep.sinceNanos(), sweep.nextPassNanos(), sweep.passes(), null, now, sweep.offered());
        }
        int read = 0;
        try {
            while (read < SWEEP_CLAIMS_PER_ROUND) {
                int limit = Math.min(SWEEP_PAGE, SWEEP_CLAIMS_PER_ROUND - read);
                List<Claim> page = store.claimsOf(new ClaimsOfParams(nodeId, sweep.after(), limit));
                read += page.size();
                for (Claim claim : page) {
                    timer.accept(new TimerEntry(claim.id(), claim.tenant(), claim.dueAt().toEpochMilli(),
                            claim.fencingToken()));
                }
                long offered = sweep.offered() + page.size();
                if (page.size() < limit) {
                    passDone(offered);
                    return;
                }
                sweep = new Sweep(sweep.sinceNanos(), sweep.nextPassNanos(), sweep.passes(), page.getLast().id(),
                        sweep.passStartNanos(), offered);
            }
        } catch (StoreException e) {
            log.debug("claim sweep: the store still fails ({}); it goes on from where it was next round",
                    e.toString());
        } catch (RuntimeException e) {
            log.error("claim sweep failed; it goes on from where it was next round", e);
        }
    }

    /**
     * A pass of the sweep read every claim: the next pass, or the end of the sweep if this pass started after the
     * grace was over (a claim that lands during a pass may lie before its cursor: only a pass that started after
     * the last moment a commit could land has surely seen it).
     */
    private void passDone(long offered) {
        int passes = sweep.passes() + 1;
        long age = sweep.passStartNanos() - sweep.sinceNanos();
        boolean over = age >= LATE_COMMIT_GRACE.toNanos();
        if (passes == 1) {
            log.info("claim sweep: {} claims of this node put back in the timer (an entry it held for the same "
                    + "claim is kept as it was); {}", offered, over ? "the sweep is over"
                    : "sweeping again until " + LATE_COMMIT_GRACE.toSeconds() + " s after the lost answer");
        }
        if (over) {
            log.debug("claim sweep over after {} passes ({} claims offered in all)", passes, offered);
            sweep = null;
            return;
        }
        long backoff = Math.min(FIRST_RECHECK.toNanos() << Math.min(passes - 1, 20),
                LATE_COMMIT_GRACE.toNanos() - age);
        sweep = new Sweep(sweep.sinceNanos(), sweep.passStartNanos() + backoff, passes, null, 0, offered);
    }

    private void unpark() {
        if (parked.isEmpty() || !mayFire.getAsBoolean()) {
            return;
        }
        int n = 0;
        TimerEntry entry;
        while ((entry = parked.poll()) != null) {
            timer.accept(entry);
            n++;
        }
        parkingLogged.set(false);
        log.info("firing resumed: the store answers again; {} due jobs back in the timer", n);
    }

    /**
     * What to do with a doubted job as the store has it; returns the next check, or null when settled.
     *
     * <p>Why checks go on for {@link #LATE_COMMIT_GRACE}: a COMMIT held up in a broken network may still reach the
     * server after the client gave up, until the server aborts the idle transaction (the PostgreSQL store has it
     * do so after 5 s). A job not found, or not ours, may so become ours later. A start is the exception: it is
     * settled at its first check, because a job it finds SCHEDULED goes back into the timer, and a second look
     * could not tell a late-committed lost start from the timer's own new start of the same claim. A lost start
     * that commits after the first look makes the timer's start of that claim lose its compare-and-set, and
     * {@link #startRefused} then doubts the job again: that is how a late COMMIT is caught.
     */
    private Checking settle(Checking checking, Job job, long now) {
        Doubt doubt = checking.doubt();
        boolean ours = job != null && nodeId.equals(job.owner());
        if (doubt.cause() == Cause.START) {
            if (ours && job.state() == JobState.RUNNING && job.fencingToken() == doubt.fencingToken()) {
                // Our start committed but its answer was lost: no attempt runs for it anywhere. Other causes may
                // find a job RUNNING because this node really is running it, so they leave it alone. Not while our
                // lease has run out: another node may rescue the job and run it; if none does, we run it once the
                // lease is renewed.
                if (!mayFire.getAsBoolean() || !resume.test(job)) {
                    return checking; // lease out, or no worker free: next round
                }
                resumed++;
                return null;
            }
            if (ours && job.state() == JobState.SCHEDULED) {
                // Remembered before the entry goes into the timer: a due entry may fire, and its start be refused
                // by the late COMMIT, on the dispatcher's thread before timer.accept even returns here.
                if (job.fencingToken() == doubt.fencingToken()) {
                    retimedStarts.put(doubt.id(), new Retimed(doubt.fencingToken(), now));
                }
                timer.accept(TimerEntry.of(job, targets));
                timed++;
            }
            return null;
        }
        long addedToken = checking.addedToken();
        if (ours && job.state() == JobState.SCHEDULED && job.fencingToken() != addedToken) {
            // Re-adding replaces an entry the timer holds; a claim it already fired fails its second start.
            timer.accept(TimerEntry.of(job, targets));
            addedToken = job.fencingToken();
            timed++;
        }
        long age = now - checking.sinceNanos();
        if (age >= LATE_COMMIT_GRACE.toNanos()) {
            return null;
        }
        long backoff = Math.min(FIRST_RECHECK.toNanos() << Math.min(checking.checks(), 20),
                LATE_COMMIT_GRACE.toNanos() - age);
        return new Checking(doubt, checking.sinceNanos(), now + backoff, checking.checks() + 1, addedToken);
    }
}
