package dev.hourglass.core.engine;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.store.TargetState;
import dev.hourglass.core.targets.TargetHolds;
import dev.hourglass.core.targets.TargetKey;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Holds the due jobs of paused targets, and lets a resumed target's jobs start a few at a time: the dispatcher asks
 * {@link #admit} before it starts an entry. A held entry is not started, so its job stays SCHEDULED with its attempts
 * unspent, claimed by this node (the lease keeps the claim; after a crash another node claims it and holds it too).
 *
 * <p>While paused: every due entry of the target waits here, except one probe at a time when the monitor says one is
 * due ({@link #probeDue}); the probe's result goes back to the monitor. After a resume: at most {@code limit} of the
 * target's attempts run at once, starting at 1 and doubling after each {@code limit} successes (halving after a
 * failure), until {@value #FULL_SPEED} at once, when the target is free again and every entry still held goes.
 *
 * <p>Costs nothing while no target is paused: {@link #admit} reads one volatile set of tenants and returns.
 *
 * <p>Threads: each target's {@link Hold} is guarded by its own monitor; the dispatcher, the attempts' threads and the
 * monitor's thread call in. Entries let go are handed to {@code release} outside any hold's lock.
 */
final class TargetGate implements TargetHolds {
    /** The concurrency at which a resumed target's ramp ends. */
    static final int FULL_SPEED = 64;

    private final Map<TargetKey, Hold> holds = new ConcurrentHashMap<>();
    /** Tenants with a hold: the fast path of {@link #admit}. Rebuilt on every pause and release. */
    private volatile Set<String> tenants = Set.of();
    /** Where entries let go go: back to the dispatch queue (they are due). */
    private final Consumer<List<TimerEntry>> release;
    /** Hears each probe's result (the monitor). */
    private volatile BiConsumer<TargetKey, Boolean> probeResults = (key, ok) -> {};

    private static final class Hold {
        /** Null while ramping up after a resume. */
        TargetState.Pause paused;
        final ArrayDeque<TimerEntry> held = new ArrayDeque<>();
        /** Jobs let through by this hold and not ended yet. */
        final Set<JobId> running = new HashSet<>();
        /** Entries let go, to be admitted when the dispatcher asks (they must not be held again). */
        final Set<JobId> passes = new HashSet<>();
        JobId probe;
        int limit = 1;
        int successes;
    }

    TargetGate(Consumer<List<TimerEntry>> release) {
        this.release = release;
    }

    void onProbeResults(BiConsumer<TargetKey, Boolean> value) {
        this.probeResults = value;
    }

    /**
     * Whether the dispatcher may start {@code entry} now. False: the gate keeps it (held, or waiting for a slot of the
     * ramp) and hands it back through {@code release} when it may start.
     */
    boolean admit(TimerEntry entry) {
        if (entry.target() == null || !tenants.contains(entry.tenant())) {
            return true;
        }
        Hold hold = holds.get(new TargetKey(entry.tenant(), entry.target()));
        if (hold == null) {
            return true;
        }
        synchronized (hold) {
            if (hold.passes.remove(entry.id())) {
                return true;
            }
            if (hold.paused == null && hold.running.size() < hold.limit) {
                hold.running.add(entry.id());
                return true;
            }
            hold.held.add(entry);
            return false;
        }
    }

    /** An admitted entry that did not start after all (refused or failed start): its slot is free again. */
    void notStarted(TimerEntry entry) {
        ended(entry.tenant(), entry.target(), entry.id(), false, false);
    }

    /** An attempt of {@code target} ended; {@code succeeded} says how its delivery went. */
    void attemptEnded(String tenant, String target, JobId id, boolean succeeded) {
        ended(tenant, target, id, succeeded, true);
    }

    private void ended(String tenant, String target, JobId id, boolean succeeded, boolean ran) {
        if (target == null || !tenants.contains(tenant)) {
            return;
        }
        TargetKey key = new TargetKey(tenant, target);
        Hold hold = holds.get(key);
        if (hold == null) {
            return;
        }
        List<TimerEntry> go;
        boolean wasProbe;
        synchronized (hold) {
            if (!hold.running.remove(id)) {
                return; // started before the hold, or already counted
            }
            wasProbe = id.equals(hold.probe);
            if (wasProbe) {
                hold.probe = null;
            }
            if (hold.paused == null && ran) {
                if (succeeded) {
                    if (++hold.successes >= hold.limit) {
                        hold.limit *= 2;
                        hold.successes = 0;
                    }
                } else {
                    hold.limit = Math.max(1, hold.limit / 2);
                    hold.successes = 0;
                }
            }
            go = hold.paused == null && hold.limit >= FULL_SPEED ? free(key, hold) : letGo(hold);
        }
        hand(go);
        if (wasProbe && ran) {
            probeResults.accept(key, succeeded);
        }
    }

    @Override
    public void pause(TargetKey key, TargetState.Pause mode) {
        Hold hold = holds.computeIfAbsent(key, k -> new Hold());
        synchronized (hold) {
            hold.paused = mode;
        }
        refreshTenants();
    }

    @Override
    public void resume(TargetKey key) {
        Hold hold = holds.get(key);
        if (hold == null) {
            return;
        }
        List<TimerEntry> go;
        synchronized (hold) {
            hold.paused = null;
            hold.limit = 1;
            hold.successes = 0;
            go = letGo(hold);
        }
        hand(go);
    }

    @Override
    public int held(TargetKey key) {
        Hold hold = holds.get(key);
        if (hold == null) {
            return 0;
        }
        synchronized (hold) {
            return hold.held.size();
        }
    }

    @Override
    public void probeDue(TargetKey key) {
        Hold hold = holds.get(key);
        if (hold == null) {
            return;
        }
        TimerEntry probe;
        synchronized (hold) {
            if (hold.paused != TargetState.Pause.AUTO || hold.probe != null || hold.held.isEmpty()) {
                return;
            }
            probe = hold.held.poll();
            hold.probe = probe.id();
            hold.running.add(probe.id());
            hold.passes.add(probe.id());
        }
        hand(List.of(probe));
    }

    /** Held entries that may start now under the ramp's limit, each given a pass. Under the hold's lock. */
    private static List<TimerEntry> letGo(Hold hold) {
        if (hold.paused != null) {
            return List.of();
        }
        List<TimerEntry> go = new ArrayList<>();
        while (!hold.held.isEmpty() && hold.running.size() < hold.limit) {
            TimerEntry entry = hold.held.poll();
            hold.running.add(entry.id());
            hold.passes.add(entry.id());
            go.add(entry);
        }
        return go;
    }

    /** The ramp is over: the hold goes and every entry it still holds is let go. Under the hold's lock. */
    private List<TimerEntry> free(TargetKey key, Hold hold) {
        holds.remove(key, hold);
        List<TimerEntry> go = new ArrayList<>(hold.held);
        hold.held.clear();
        refreshTenants();
        return go;
    }

    private void hand(List<TimerEntry> go) {
        if (!go.isEmpty()) {
            release.accept(go);
        }
    }

    private void refreshTenants() {
        Set<String> now = new HashSet<>();
        for (TargetKey key : holds.keySet()) {
            now.add(key.tenant());
        }
        tenants = Set.copyOf(now);
    }
}
