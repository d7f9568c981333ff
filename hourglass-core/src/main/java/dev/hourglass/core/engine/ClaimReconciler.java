package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.time.Ticker;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * node, but whose success the engine never saw, would orphan the job until a restart. Two cases:
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
 * </ul>
 * Rounds run on the loader's thread, after its round.
 *
 * <p>Invariant: only the store decides; re-adding an entry the timer already holds replaces it unless the held one
 * is under a newer claim (a higher fencing token: {@link FiringLoop}), and a stale one that fires loses the start
 * compare-and-set, so neither case can make a job fire twice, nor leave a claim of this node in no timer.
 *
 * <p>Not covered: a horizon claim ({@code claimDue}) whose answer was lost names no job this node could check; such
 * jobs stay claimed by this node until it restarts or its lease lapses.
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

    /**
     * A doubt being checked: since when (monotonic), when next, how often so far, and the fencing token of the
     * entry last put in the timer for it ({@link #NO_TOKEN} if none), so each claim goes into the timer once.
     */
    private record Checking(Doubt doubt, long sinceNanos, long nextCheckNanos, int checks, long addedToken) {}

    private final String nodeId;
    private final JobStore store;
    private final Consumer<TimerEntry> timer;
    private final Predicate<Job> resume;
    private final BooleanSupplier mayFire;
    private final Ticker ticker;
    private final Map<JobId, Checking> doubts = new ConcurrentHashMap<>();
    private final Queue<TimerEntry> parked = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean parkingLogged = new AtomicBoolean();
    /** This round's counts, for its log line; rounds run on one thread. */
    private int timed;
    private int resumed;

    /**
     * @param timer adds an entry to this node's timer
     * @param resume runs an attempt whose start was committed but never confirmed; false if no worker is free now
     * @param mayFire whether the store answered the latest write and this node's lease holds (parked entries, and
     *     attempts to resume, wait for it)
     * @param ticker the monotonic clock that spaces the checks of a doubted job
     */
    ClaimReconciler(String nodeId, JobStore store, Consumer<TimerEntry> timer, Predicate<Job> resume,
            BooleanSupplier mayFire, Ticker ticker) {
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

    /** One round. Never throws: a store that fails ends the round, and the rest waits for the next. */
    void runRound() {
        unpark();
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
                if (next == null) {
                    doubts.remove(checking.doubt().id(), checking);
                } else {
                    doubts.replace(checking.doubt().id(), checking, next);
                }
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
     * do so after 15 s). A job not found, or not ours, may so become ours later. A start is the exception: it is
     * settled at its first check, because a job it finds SCHEDULED goes back into the timer, and a second look
     * could not tell a late-committed lost start from the timer's own new start of the same claim.
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
                timer.accept(TimerEntry.of(job));
                timed++;
            }
            return null;
        }
        long addedToken = checking.addedToken();
        if (ours && job.state() == JobState.SCHEDULED && job.fencingToken() != addedToken) {
            // Re-adding replaces an entry the timer holds; a claim it already fired fails its second start.
            timer.accept(TimerEntry.of(job));
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
