package dev.hourglass.core.engine;

import dev.hourglass.core.api.TenantShares;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The due entries that wait for a worker, and the attempts running, per tenant: decides which due job starts next
 * when more are due than the node can run at once, so that one tenant's burst does not delay another tenant's job
 * and a slow target holds only its own tenant's slots.
 *
 * <p><b>Policy.</b> Deficit round robin (Shreedhar and Varghese, 1995) with a cost of one per job: the tenants that
 * have entries waiting form a ring; the tenant at the head takes a turn of up to {@code weight} entries, then goes
 * to the back. A tenant whose entries are all taken leaves the ring, and one that gets entries again joins at the
 * back, so a quiet tenant's job waits at most one turn of each other tenant, never behind their backlogs. A tenant
 * found with as many attempts running as its own {@code maxInFlight} is <i>parked</i>: out of the ring (its turn
 * ends) until one of its attempts ends, so that tenants stuck on slow targets cost the others nothing per take.
 * Nothing is taken while {@code maxInFlight} attempts of all tenants together run. Within a tenant entries leave in
 * arrival order, which is due order (the timer hands them on as they fall due).
 *
 * <p>Weights and limits come from {@link TenantShares}, asked again when a tenant joins the ring and when its turn
 * starts, so a change takes effect at the tenant's next turn. A parked tenant's limit is asked again when nothing
 * else can start; otherwise a raised limit is seen once one of its attempts ends.
 *
 * <p><b>Fairness off</b> ({@code fair = false}): every entry goes into one lane with weight 1 and no limit of its
 * own: one FIFO across tenants under the engine-wide limit only, which is how the dispatcher worked before tenants.
 *
 * <p><b>Slots.</b> A taken entry holds a slot of its tenant and one of the engine until {@link #release} is called
 * for its tenant, when its attempt is over: the start failed or was refused, or the outcome was stored or given up
 * on. The caller must release exactly once per take and per {@link #tryTakeSlot}.
 *
 * <p><b>Why hand-written.</b> Choosing which tenant goes next is the product's fairness promise, and it has to be
 * decided in one step with the engine-wide and per-tenant slot counts (a queue from java.util.concurrent offers FIFO
 * or priority order, not weighted turns under per-class limits read live); the whole policy is about a hundred lines
 * that the unit tests pin down exactly.
 *
 * <p><b>Threads.</b> The timer thread adds, the dispatcher thread takes, attempt and committer threads release.
 * One lock guards every field below that is not final, and the lanes' contents; it is held for short, non-blocking
 * work only (the shares are asked under it, so they must be cheap). Invariants under the lock:
 * <ul>
 *   <li>{@code queued} is the sum of the lanes' entries, {@code inFlight} the sum of their {@code inFlight};</li>
 *   <li>a lane is in {@code ring} if and only if it has entries and is not parked; it is parked only with entries;
 *       it is in {@code lanes} if and only if it has entries or attempts running (so idle tenants cost no
 *       memory);</li>
 *   <li>only the ring's head has a turn open ({@code credit > 0});</li>
 *   <li>an entry is taken only while {@code inFlight < maxInFlight} and its lane's {@code inFlight} is below its
 *       limit (a limit lowered meanwhile may leave more running; none is then taken until they drop below).</li>
 * </ul>
 */
final class FairDispatchQueue {
    private static final Logger log = LoggerFactory.getLogger(FairDispatchQueue.class);
    /** The key of the one lane when fairness is off. */
    private static final String ALL = "";

    /** One tenant's waiting entries and running attempts; guarded by the queue's lock. */
    private static final class Lane {
        final String tenant;
        final ArrayDeque<TimerEntry> entries = new ArrayDeque<>();
        int inFlight;
        /** As last read from the shares. */
        int weight = 1;
        int limit = TenantShares.NO_LIMIT;
        /** Entries this lane may still take in its current turn; 0 when no turn is open. */
        int credit;
        /** At its limit with entries waiting: out of the ring until one of its attempts ends. */
        boolean parked;

        Lane(String tenant) {
            this.tenant = tenant;
        }

        boolean atLimit() {
            return inFlight >= limit;
        }
    }

    private final int maxInFlight;
    private final GuardedShares shares;
    private final boolean fair;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when an entry arrives or a slot frees: the dispatcher may be able to take one. */
    private final Condition takeable = lock.newCondition();
    /** Signalled when the last running attempt ends. */
    private final Condition idle = lock.newCondition();
    private final Map<String, Lane> lanes = new HashMap<>();
    private final ArrayDeque<Lane> ring = new ArrayDeque<>();
    private int queued;
    private int inFlight;
    private int parkedLanes;
    /** Slots taken and released since the start, never reset ({@link #slotCounts}). */
    private long slotsTaken;
    private long slotsReleased;

    /**
     * @param maxInFlight the most attempts of all tenants at once (the engine's)
     * @param fair false for one FIFO across tenants (shares are then never asked)
     */
    FairDispatchQueue(int maxInFlight, TenantShares shares, boolean fair) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1, was " + maxInFlight);
        }
        this.maxInFlight = maxInFlight;
        this.shares = new GuardedShares(shares);
        this.fair = fair;
    }

    /** Adds due entries, in due order. Never blocks for long: called by the timer thread. */
    void addAll(List<TimerEntry> due) {
        if (due.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            for (TimerEntry entry : due) {
                Lane lane = lanes.computeIfAbsent(keyOf(entry.tenant()), Lane::new);
                if (lane.entries.isEmpty()) {
                    refresh(lane);
                    ring.addLast(lane);
                }
                lane.entries.addLast(entry);
                queued++;
            }
            takeable.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes up to {@code max} entries in fair order, waiting up to {@code timeout} for the first one that may start.
     * Each entry returned holds a slot until {@link #release}. Empty if none could be taken in time.
     */
    List<TimerEntry> take(int max, long timeout, TimeUnit unit) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long nanos = unit.toNanos(timeout);
            TimerEntry first;
            while ((first = next()) == null) {
                if (unparkRaised()) {
                    continue;
                }
                if (nanos <= 0) {
                    return List.of();
                }
                nanos = takeable.awaitNanos(nanos);
            }
            List<TimerEntry> batch = new ArrayList<>(Math.min(max, queued + 1));
            batch.add(first);
            TimerEntry entry;
            while (batch.size() < max && (entry = next()) != null) {
                batch.add(entry);
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** The next entry in fair order, counted as running; null if none may start now. Lock held. */
    private TimerEntry next() {
        if (inFlight >= maxInFlight) {
            return null;
        }
        // Each pass takes from the head, or parks it: at most one pass per lane in the ring.
        while (!ring.isEmpty()) {
            Lane lane = ring.peekFirst();
            if (lane.credit == 0) {
                refresh(lane); // a new turn: ask the shares again
            }
            if (lane.atLimit()) {
                ring.pollFirst();
                lane.credit = 0;
                lane.parked = true;
                parkedLanes++;
                continue;
            }
            if (lane.credit == 0) {
                lane.credit = lane.weight;
            }
            TimerEntry entry = lane.entries.pollFirst();
            queued--;
            lane.credit--;
            lane.inFlight++;
            inFlight++;
            slotsTaken++;
            if (lane.entries.isEmpty()) {
                ring.pollFirst(); // it joins again at the back when it gets entries
                lane.credit = 0;
            } else if (lane.credit == 0) {
                ring.addLast(ring.pollFirst());
            }
            return entry;
        }
        return null;
    }

    /**
     * Asks the shares again for the limits of parked lanes and puts those now below it back in the ring; true if
     * any. Called only when nothing could be taken, so a raised limit is not missed while the queue waits. Lock held.
     */
    private boolean unparkRaised() {
        if (parkedLanes == 0 || inFlight >= maxInFlight) {
            return false;
        }
        boolean any = false;
        for (Lane lane : lanes.values()) {
            if (lane.parked) {
                refresh(lane);
                if (!lane.atLimit()) {
                    unpark(lane);
                    any = true;
                }
            }
        }
        return any;
    }

    private void unpark(Lane lane) {
        lane.parked = false;
        parkedLanes--;
        ring.addLast(lane);
    }

    /**
     * Takes a slot of {@code tenant} for an attempt that did not come through the queue (a start the store
     * committed without this node hearing of it, resumed). Only the engine-wide limit applies: the attempt already
     * counts as started in the store, and holding it back for its tenant's limit would only keep it RUNNING longer.
     * False if every slot of the engine is taken.
     */
    boolean tryTakeSlot(String tenant) {
        lock.lock();
        try {
            if (inFlight >= maxInFlight) {
                return false;
            }
            lanes.computeIfAbsent(keyOf(tenant), Lane::new).inFlight++;
            inFlight++;
            slotsTaken++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Frees the slot of an attempt of {@code tenant} that is over. Safe from any thread; never blocks for long. */
    void release(String tenant) {
        lock.lock();
        try {
            String key = keyOf(tenant);
            Lane lane = lanes.get(key);
            if (lane == null || lane.inFlight == 0) {
                // A bug: more releases than takes. Counting below zero would let more attempts run than allowed.
                log.error("slot of tenant '{}' released but none was taken", tenant, new IllegalStateException());
                return;
            }
            lane.inFlight--;
            inFlight--;
            slotsReleased++;
            if (lane.parked && !lane.atLimit()) {
                unpark(lane); // its next turn asks the shares again, so a lowered limit parks it again
            } else if (lane.inFlight == 0 && lane.entries.isEmpty()) {
                lanes.remove(key);
            }
            takeable.signal();
            if (inFlight == 0) {
                idle.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Drops every waiting entry (shutdown: they stay claimed in the store); returns how many. Slots are kept. */
    int clear() {
        lock.lock();
        try {
            int dropped = queued;
            for (Lane lane : lanes.values()) {
                lane.entries.clear();
                lane.credit = 0;
                lane.parked = false;
            }
            lanes.values().removeIf(lane -> lane.inFlight == 0);
            ring.clear();
            queued = 0;
            parkedLanes = 0;
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to {@code timeout} until no attempt runs; true if none does. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long nanos = timeout.toNanos();
            while (inFlight > 0) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = idle.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Attempts running (taken and not yet released). */
    int inFlight() {
        lock.lock();
        try {
            return inFlight;
        } finally {
            lock.unlock();
        }
    }

    /** Due entries waiting for a slot. */
    int queued() {
        lock.lock();
        try {
            return queued;
        } finally {
            lock.unlock();
        }
    }

    /** Slots taken and released since the start, read together. */
    record SlotCounts(long taken, long released) {}

    /** Slots taken and released so far, read together. */
    SlotCounts slotCounts() {
        lock.lock();
        try {
            return new SlotCounts(slotsTaken, slotsReleased);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The earliest due time of the entries at the heads of the tenants' queues, or {@link Long#MAX_VALUE} when none
     * waits: each queue is in the order the timer fired its entries, so its head is its oldest.
     */
    long oldestQueuedDueMillis() {
        lock.lock();
        try {
            long oldest = Long.MAX_VALUE;
            for (Lane lane : lanes.values()) {
                TimerEntry head = lane.entries.peekFirst();
                if (head != null && head.dueMillis() < oldest) {
                    oldest = head.dueMillis();
                }
            }
            return oldest;
        } finally {
            lock.unlock();
        }
    }

    private String keyOf(String tenant) {
        return fair ? tenant : ALL;
    }

    /** Reads the lane's weight and limit from the shares; the one lane of an unfair queue keeps 1 and no limit. */
    private void refresh(Lane lane) {
        if (fair) {
            lane.weight = shares.weight(lane.tenant);
            lane.limit = shares.maxInFlight(lane.tenant);
        }
    }
}
