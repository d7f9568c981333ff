package dev.hourglass.core.engine;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.ClaimDueParams;
import dev.hourglass.core.store.ClaimShare;
import dev.hourglass.core.store.ClaimShareParams;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.NodePresence;
import dev.hourglass.core.store.PruneParams;
import dev.hourglass.core.store.RescueParams;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import dev.hourglass.core.store.StoreUnavailableException;
import dev.hourglass.core.store.YieldParams;
import dev.hourglass.core.time.Ticker;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the near-term horizon in memory. Each round (every {@code loadInterval}): renew this node's lease, rescue
 * the claims of nodes whose lease expired, claim the unowned jobs due within the horizon (earliest first, as many as
 * the timer has room for) and add them to the timer, and now and then prune old terminal jobs.
 *
 * <p>Only the horizon is in memory, so memory stays flat however many jobs are pending; a restart reads only the
 * next horizon's worth of jobs instead of scanning everything.
 *
 * <p>It also tells whether this node still holds its lease ({@link #leaseHeld()}): on a shared store, once the
 * lease the node last renewed has run out, another node may rescue its claims at any moment, a RUNNING job too, and
 * an attempt started then would run twice. The node fires nothing until it has renewed its lease. The same holds
 * while its presence mark ({@link NodePresence}) has lapsed: other nodes may take it for dead.
 */
final class HorizonLoader {
    private static final Logger log = LoggerFactory.getLogger(HorizonLoader.class);
    private static final int CLAIM_BATCH = 5_000;
    /** Jobs due within this many load intervals are claimed by whichever node comes first, share or not. */
    private static final int NEAR_WINDOW_INTERVALS = 2;
    /**
     * A node yields claims only when it holds more than this many, and more than a quarter of its share, over its
     * share: the counts lag by up to a round, and jobs firing move them all the time.
     */
    private static final int YIELD_SLACK = 100;
    /**
     * The most claims one pass yields: each yielded job is written twice more (the yield, the other node's claim),
     * beside the yielder's starts and finishes, so a hand-over goes a little at a time, over the rounds and the
     * early claims that follow it.
     */
    private static final int MAX_YIELD = 2_000;
    private static final int PRUNE_BATCH = 10_000;
    private static final int ROUNDS_PER_PRUNE = 60;
    /** During an outage, one warning per this many failed rounds (a minute at the default load interval). */
    private static final int FAILED_ROUNDS_PER_WARNING = 60;

    private final EngineConfig config;
    private final TargetNames targets;
    private final InstantSource wallClock;
    private final GroupCommitter committer;
    /**
     * Where claims are written beside the committer (a store that says {@link JobStore#concurrentWrites()}), or
     * null: they go in the committer's queue.
     */
    private final JobStore claimsBeside;
    private final FiringLoop timer;
    /** Told when a claim's commit answer was lost (the reconciler's claim sweep). */
    private final Runnable claimAnswerLost;
    private final Ticker ticker;
    private final EngineMetrics metrics;
    /** False on an exclusive store: no other node can rescue this one's claims, so its lease never runs out. */
    private final boolean leaseMatters;
    /** This node's mark of life in the store; other nodes rescue its claims at once while it has lapsed. */
    private final NodePresence presence;
    /**
     * Until when (monotonic) the lease this node last renewed holds: the start of the round that renewed it plus the
     * lease TTL, no later than the {@code lease_until} it stored, on the wall clock, from the same moment. Written by
     * the loader's thread; read by the dispatcher and the reconciler.
     */
    private volatile long leaseUntilNanos;
    private boolean firstRound = true;
    /**
     * When (wall clock, ms) the first claim pass that took all it should ended, or {@link Long#MAX_VALUE} before (the
     * first round claims one batch only). Written by the loader's thread once.
     */
    private volatile long claimedThroughMillis = Long.MAX_VALUE;
    private int round;
    /** Rounds failed in a row; the loader's thread only, like {@code round}. */
    private int failedRounds;

    /**
     * @param ticker the monotonic clock the lease is timed on
     * @param store the store behind {@code committer}: whether it is this node's alone ({@link JobStore#exclusive}),
     *     and where claims are written directly, beside the committer, if it says
     *     {@link JobStore#concurrentWrites()}; everything else the loader writes goes through the committer
     * @param claimAnswerLost called when a claim may have committed unheard (see {@link #claimHorizon})
     */
    HorizonLoader(EngineConfig config, InstantSource wallClock, GroupCommitter committer, FiringLoop timer,
            Ticker ticker, JobStore store, Runnable claimAnswerLost, EngineMetrics metrics) {
        this(config, wallClock, committer, timer, ticker, store, claimAnswerLost, metrics, TargetNames.OFF,
                NodePresence.NONE);
    }

    /**
     * @param targets names the targets of the jobs it claims
     * @param presence this node's mark of life in {@code store}
     */
    HorizonLoader(EngineConfig config, InstantSource wallClock, GroupCommitter committer, FiringLoop timer,
            Ticker ticker, JobStore store, Runnable claimAnswerLost, EngineMetrics metrics, TargetNames targets,
            NodePresence presence) {
        this.presence = presence;
        this.targets = targets;
        this.config = config;
        this.wallClock = wallClock;
        this.committer = committer;
        this.claimsBeside = store.concurrentWrites() ? store : null;
        this.timer = timer;
        this.claimAnswerLost = claimAnswerLost;
        this.ticker = ticker;
        this.metrics = metrics;
        this.leaseMatters = !store.exclusive();
        this.leaseUntilNanos = ticker.nanoTime(); // none yet: the first round renews it
    }

    /**
     * True while the lease this node last renewed has not run out (always, on an exclusive store) and its presence
     * mark has not lapsed. Safe from any thread; never blocks.
     */
    boolean leaseHeld() {
        return !leaseMatters || (ticker.nanoTime() - leaseUntilNanos < 0 && !presence.lapsed());
    }

    /**
     * The first round, run before the engine is built: as {@link #runRound}, but it claims one batch of the earliest
     * due jobs only, so that start-up does not wait for a whole backlog to be claimed; the regular rounds, which
     * start right after, claim the rest ({@code oneBatch}; else all of it, for loops driven by hand).
     */
    void runFirstRound(boolean takeOverAll, boolean oneBatch) {
        runRound(takeOverAll, oneBatch ? CLAIM_BATCH : Integer.MAX_VALUE);
    }

    /** One round. Called by one scheduled thread; never throws (a failed round is logged and the next one retries). */
    void runRound() {
        runRound(false, Integer.MAX_VALUE);
    }

    /**
     * When (wall clock, ms) the first claim pass that claimed all it should ended: from then on, every job due by
     * that time that this node had room and share for was added to its timer. {@link Long#MAX_VALUE} until then
     * (after the first round's single batch). Safe from any thread.
     */
    long claimedThroughMillis() {
        return claimedThroughMillis;
    }

    private void claimedAll() {
        if (claimedThroughMillis == Long.MAX_VALUE) {
            claimedThroughMillis = wallClock.millis();
        }
    }

    /**
     * @param takeOverAll rescue every other node's claims now (an exclusive store after a restart)
     * @param maxClaims the most jobs this round claims
     */
    private void runRound(boolean takeOverAll, int maxClaims) {
        boolean renewalReported = false;
        try {
            long startNanos = ticker.nanoTime(); // before now: the lease is never thought to hold longer than stored
            Instant now = wallClock.instant();
            String node = config.nodeId();
            Renewal renewal = committer.<Renewal>task(Durability.LAZY, tx -> {
                boolean renewed = tx.heartbeat(new HeartbeatParams(node, now.plus(config.leaseTtl()), now));
                return new Renewal(renewed, tx.rescueExpired(takeOverAll && firstRound
                        ? RescueParams.allOtherNodes(node, now)
                        : RescueParams.expiredLeases(node, now, config.loadInterval().multipliedBy(2))));
            }).join();
            if (renewal.rescued() > 0) {
                log.info("rescued {} jobs from nodes that died or whose lease expired", renewal.rescued());
                metrics.claimsRescued(renewal.rescued());
            }
            metrics.leaseRenewal(renewal.renewed() ? EngineMetrics.LeaseRenewal.RENEWED
                    : EngineMetrics.LeaseRenewal.LOST);
            renewalReported = true;
            if (renewal.renewed()) {
                leaseUntilNanos = startNanos + config.leaseTtl().toNanos();
            } else {
                // Another node found this node's lease run out and is handing its claims back: the lease stays as
                // it was (run out, or about to), so nothing starts until a later round renews it.
                log.warn("lease not renewed: another node is rescuing this node's claims (its lease ran out); "
                        + "the next round renews it");
            }
            firstRound = false;
            if (claimHorizon(now, maxClaims)) {
                claimedAll();
            }
            if (round++ % ROUNDS_PER_PRUNE == 0) {
                prune(now);
            }
            if (failedRounds > 0) {
                log.info("horizon rounds work again after {} failed", failedRounds);
                failedRounds = 0;
            }
        } catch (CompletionException | IllegalStateException e) {
            if (!renewalReported) {
                metrics.leaseRenewal(EngineMetrics.LeaseRenewal.FAILED);
            }
            // An outage fails every round (one per load interval): say so once, then once a minute, not every second.
            if (failedRounds++ % FAILED_ROUNDS_PER_WARNING == 0) {
                log.warn("horizon round failed ({} in a row): {}; retrying every round", failedRounds,
                        String.valueOf(e.getCause()));
            }
        } catch (RuntimeException e) {
            log.error("horizon round failed; retrying next round", e);
        }
    }

    /**
     * Claims the horizon now, between regular rounds: a job that another party committed unowned (inside its own
     * transaction) is due soon. Must run on the thread that runs {@link #runRound}, so that rounds never overlap;
     * never throws.
     */
    void claimNow() {
        try {
            if (claimHorizon(wallClock.instant(), Integer.MAX_VALUE)) {
                claimedAll();
            }
        } catch (CompletionException | IllegalStateException e) {
            log.warn("early horizon claim failed: {}; the next round retries", String.valueOf(e.getCause()));
        } catch (RuntimeException e) {
            log.error("early horizon claim failed; the next round retries", e);
        }
    }

    /**
     * Claims unowned jobs due within the horizon into the timer, at most {@code maxClaims}, earliest first. On an
     * exclusive store, all of them the timer has room for. On a shared store, every job due within the near window
     * (two load intervals: too soon for another node's round to take it), and beyond it only up to this node's fair
     * share of the near-term work ({@link ClaimShare#fairShare}); a node holding well over its share while other
     * nodes are live yields the excess, its latest-due claims after the near window, for them to claim. So a
     * node that started alone against a backlog hands most of it to the nodes that join, and no node holds far more
     * than the others for long.
     *
     * <p>A claim whose commit answer was lost (the failure says {@link StoreUnavailableException#outcomeUnknown()})
     * may have committed: its jobs are then claimed by this node, which alone could fire them, but no answer named
     * them. {@code claimAnswerLost} hears of it (the reconciler sweeps this node's claims back into the timer); the
     * round fails as any failed round does. A yield whose answer was lost leaves the timer as it was: a job it did
     * yield fails its start's compare-and-set (owner and token) and is dropped, another node firing it.
     *
     * @return true when the pass claimed all it should have, false when {@code maxClaims} cut it short
     */
    private boolean claimHorizon(Instant now, int maxClaims) {
        Instant horizonEnd = now.plus(config.horizon());
        if (!leaseMatters) {
            return claimUpTo(now, horizonEnd, maxClaims) < maxClaims;
        }
        Instant nearEnd = now.plus(config.loadInterval().multipliedBy(NEAR_WINDOW_INTERVALS));
        int taken = claimUpTo(now, nearEnd, maxClaims);
        if (taken >= maxClaims) {
            return false;
        }
        long held = timer.size();
        ClaimShare share = claim(tx -> tx.claimShare(new ClaimShareParams(config.nodeId(), held, horizonEnd, now)));
        long fair = share.fairShare();
        if (held < fair) {
            int left = maxClaims - taken;
            int more = (int) Math.min(left, fair - held);
            int got = claimUpTo(now, horizonEnd, more);
            if (got > 0) {
                // Recorded at once, so that the other nodes' shares count these claims before this node's next round.
                long holding = timer.size();
                claim(tx -> tx.claimShare(new ClaimShareParams(config.nodeId(), holding, horizonEnd, now)));
            }
            return got < left; // all of maxClaims taken: there may be more
        }
        long excess = held - fair;
        if (share.liveNodes() > 1 && excess > Math.max(YIELD_SLACK, fair / 4)) {
            int count = (int) Math.min(excess, MAX_YIELD);
            List<JobId> yielded = claim(tx -> tx.yieldClaims(new YieldParams(config.nodeId(), nearEnd, count, now)));
            for (JobId id : yielded) {
                timer.removeYielded(id);
            }
            if (!yielded.isEmpty()) {
                log.info("yielded {} claims for other nodes to take ({} live nodes, share {}, held {})",
                        yielded.size(), share.liveNodes(), fair, held);
                metrics.claimsYielded(yielded.size());
            }
        }
        return true;
    }

    /** Claims up to {@code max} unowned jobs due by {@code dueBefore}, as the timer has room; returns how many. */
    private int claimUpTo(Instant now, Instant dueBefore, int max) {
        int taken = 0;
        while (taken < max) {
            int room = Math.min(Math.min(CLAIM_BATCH, max - taken), config.maxTimerEntries() - timer.size());
            if (room <= 0) {
                return taken;
            }
            List<Job> claimed;
            try {
                long started = ticker.nanoTime();
                claimed = claim(tx -> tx.claimDue(new ClaimDueParams(config.nodeId(), dueBefore, room, now)));
                if (claimsBeside != null) {
                    metrics.claimCommitted(claimed.size(), ticker.nanoTime() - started);
                }
            } catch (CompletionException e) {
                if (e.getCause() instanceof StoreUnavailableException u && u.outcomeUnknown()) {
                    claimAnswerLost.run();
                }
                throw e;
            }
            for (Job job : claimed) {
                timer.add(TimerEntry.of(job, targets));
            }
            taken += claimed.size();
            if (claimed.size() < room) {
                return taken;
            }
        }
        return taken;
    }

    /**
     * Runs one claim transaction (a claim, a count of the share, a yield): beside the committer if the store allows
     * it, else in its queue. Fails as a committer task does (a {@link CompletionException} around the store's
     * exception), so that the callers handle an outage the same way on either path.
     */
    private <T> T claim(Function<StoreTx, T> work) {
        if (claimsBeside == null) {
            return committer.task(Durability.LAZY, work).join();
        }
        try {
            return claimsBeside.write(Durability.LAZY, work);
        } catch (StoreException e) {
            throw new CompletionException(e);
        }
    }

    /** What a round's heartbeat transaction did. */
    private record Renewal(boolean renewed, int rescued) {}

    private void prune(Instant now) {
        Instant cutoff = now.minus(config.retention());
        int pruned = committer.<Integer>task(Durability.LAZY,
                tx -> tx.pruneFinished(new PruneParams(cutoff, PRUNE_BATCH))).join();
        if (pruned > 0) {
            log.info("pruned {} finished jobs older than {}", pruned, config.retention());
        }
    }
}
