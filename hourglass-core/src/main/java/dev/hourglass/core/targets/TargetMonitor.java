package dev.hourglass.core.targets;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.monitor.AlarmLevel;
import dev.hourglass.core.monitor.AlarmState;
import dev.hourglass.core.monitor.ErrorRateMonitor;
import dev.hourglass.core.monitor.MonitorConfig;
import dev.hourglass.core.monitor.MonitorEvent;
import dev.hourglass.core.monitor.SourceStats;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishedAttempt;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.TargetState;
import dev.hourglass.core.supervision.Supervision;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches every target as a stream of delivery attempts and acts on it: counts each target's attempts and errors
 * over a sliding window ({@link ErrorRateMonitor}), raises and clears alarms with hysteresis ({@link AlarmState}),
 * pauses a target alarming for too long when its tenant opted in, probes a paused target, and lets an operator pause
 * and resume one by hand.
 *
 * <p><b>One view over the cluster.</b> The counts come from the delivery history in the store ({@link
 * JobStore#attemptsFinishedSince}), which every node writes with each outcome: each node reads every node's attempts
 * and so judges the sum over nodes. At start the monitor reads its window's worth of history back, so a restart
 * forgets nothing. Rows committed late can show up behind rows already read, so each read overlaps the previous one by
 * {@link Settings#pollOverlap()}, and attempts already counted (by job and attempt number) are skipped. With the
 * history off, the monitor counts this node's attempts only ({@link #recordLocal}).
 *
 * <p><b>One change, one event.</b> The alarm level and the pause are shared in the store ({@link TargetState}) and
 * every change is a compare-and-set on the state's version: of several nodes that see a target cross a threshold,
 * one writes the change and tells the {@link TargetEventListener}; the others read it and adopt it. So a change is
 * told once, and survives restarts and failover.
 *
 * <p><b>Clocks.</b> The injected wall clock (the cluster's) decides which attempts are in the window and when a
 * target has alarmed long enough to pause; the monitor's thread waits on the monotonic clock (a scheduled executor).
 *
 * <p><b>Threads.</b> {@link #lock} guards the alarm states, the shared states, the probe schedule and the read
 * cursor: the monitor's thread, API calls (pause, resume) and probe results take it for short work and one store
 * write at most. The counts have their own lock.
 */
public final class TargetMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TargetMonitor.class);

    /**
     * @param window buckets, window and moving-average time constant of the counts
     * @param evaluateEvery how often alarms are judged (raising takes two evaluations in a row, by default)
     * @param pollEvery how often the history is read
     * @param pollOverlap how far back each read starts before the previous one's latest row
     * @param pollBatch the most history rows read at once
     * @param fromHistory whether the counts come from the store's history (every node's) or from this node's
     *     attempts ({@link #recordLocal}), when the history is off
     */
    public record Settings(MonitorConfig window, Duration evaluateEvery, Duration pollEvery, Duration pollOverlap,
            int pollBatch, boolean fromHistory) {
        public static final Settings DEFAULTS = new Settings(MonitorConfig.DEFAULTS, Duration.ofSeconds(30),
                Duration.ofSeconds(2), Duration.ofSeconds(10), 10_000, true);

        public Settings {
            Objects.requireNonNull(window, "window");
            positive("evaluateEvery", evaluateEvery);
            positive("pollEvery", pollEvery);
            Objects.requireNonNull(pollOverlap, "pollOverlap");
            if (pollBatch < 1) {
                throw new IllegalArgumentException("pollBatch must be >= 1");
            }
        }

        public Settings withEvaluateEvery(Duration value) {
            return new Settings(window, value, pollEvery, pollOverlap, pollBatch, fromHistory);
        }

        public Settings withPollEvery(Duration value) {
            return new Settings(window, evaluateEvery, value, pollOverlap, pollBatch, fromHistory);
        }

        public Settings withWindow(MonitorConfig value) {
            return new Settings(value, evaluateEvery, pollEvery, pollOverlap, pollBatch, fromHistory);
        }

        public Settings withFromHistory(boolean value) {
            return new Settings(window, evaluateEvery, pollEvery, pollOverlap, pollBatch, value);
        }

        private static void positive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be > 0, was " + d);
            }
        }
    }

    private final JobStore store;
    private final Settings settings;
    private final InstantSource clock;
    private final String node;
    private final Function<String, TargetPolicy> policies;
    private final TargetEventListener listener;
    private volatile TargetHolds holds = TargetHolds.NONE;
    private final ErrorRateMonitor counts;

    private final ReentrantLock lock = new ReentrantLock();
    /** This node's alarm streaks per target; the level agrees with {@link #shared} once a change is written. */
    private final Map<TargetKey, AlarmState> alarms = new HashMap<>();
    /** The shared states as last read or written. */
    private final Map<TargetKey, TargetState> shared = new HashMap<>();
    /** Paused-by-monitor targets: when the next probe is due, and the wait after it. */
    private final Map<TargetKey, Probe> probes = new HashMap<>();
    /** The latest end time read from the history; the next read starts pollOverlap before it. */
    private Instant cursor;
    /**
     * Attempts read within the overlap (a 64-bit digest of job and attempt number -> end time), so none is counted
     * twice. In read order, which is end order but for rows committed late, so pruning stops at the first it keeps.
     */
    private final LinkedHashMap<Long, Instant> seen = new LinkedHashMap<>();

    /** The monitor's thread, once started. */
    private volatile ScheduledExecutorService loop;

    private record Probe(Instant due, Duration interval) {}

    /**
     * @param policies each tenant's policy (asked at every evaluation, so changes apply at the next)
     * @param listener hears each change once over the cluster
     */
    public TargetMonitor(JobStore store, Settings settings, InstantSource clock, String node,
            Function<String, TargetPolicy> policies, TargetEventListener listener) {
        this.store = Objects.requireNonNull(store, "store");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.node = Objects.requireNonNull(node, "node");
        this.policies = Objects.requireNonNull(policies, "policies");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.counts = new ErrorRateMonitor(settings.window(), clock);
    }

    public Settings settings() {
        return settings;
    }

    /** Where paused targets' jobs are held: the engine's dispatcher; set before {@link #load}. */
    public void holdWith(TargetHolds value) {
        this.holds = Objects.requireNonNull(value, "holds");
    }

    /**
     * Reads the shared states (alarms and pauses survive restarts) and the window's history back. Call once, before
     * {@link #start} or the first manual {@link #poll}.
     */
    public void load() {
        lock.lock();
        try {
            Instant now = clock.instant();
            refreshShared();
            cursor = now.minus(settings.window().window());
        } finally {
            lock.unlock();
        }
        poll();
    }

    /**
     * Starts the monitor's thread: reads the history every pollEvery and evaluates every evaluateEvery (waits on the
     * executor's monotonic clock). A round that fails is logged and the next one tries again.
     */
    public void start() {
        start(null);
    }

    /**
     * Starts the monitor's thread, with the engine's supervision: an {@link Error} in a round fails the engine
     * rather than silently ending the rounds. Without one ({@code null}), it goes to the thread's default handler.
     */
    public void start(Supervision supervision) {
        ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("hourglass-targets").daemon(true).factory());
        long poll = settings.pollEvery().toMillis();
        long evaluate = settings.evaluateEvery().toMillis();
        BiFunction<String, Runnable, Runnable> watched =
                supervision == null ? Supervision::reportingErrors : supervision::supervised;
        loop.scheduleWithFixedDelay(watched.apply("target monitor read", () -> guarded("read", this::poll)), poll,
                poll, TimeUnit.MILLISECONDS);
        loop.scheduleWithFixedDelay(watched.apply("target monitor evaluation",
                () -> guarded("evaluation", this::evaluate)), evaluate, evaluate, TimeUnit.MILLISECONDS);
        this.loop = loop;
    }

    private static void guarded(String what, Runnable round) {
        try {
            round.run();
        } catch (RuntimeException e) {
            log.warn("target monitor {} failed; trying again next round: {}", what, e.toString());
        }
    }

    /**
     * Counts one attempt of this node, when the counts do not come from the history ({@link Settings#fromHistory}
     * false); ignored otherwise (the history has it).
     */
    public void recordLocal(String tenant, DeliveryAttempt attempt, Instant endedAt, String detail) {
        if (settings.fromHistory() || attempt.target() == null) {
            return;
        }
        counts.record(event(new TargetKey(tenant, attempt.target()), endedAt, attempt.outcome(), detail));
    }

    private static MonitorEvent event(TargetKey key, Instant at, DeliveryAttempt.Result outcome, String detail) {
        boolean failed = outcome != DeliveryAttempt.Result.SUCCESS;
        return new MonitorEvent(key.source(), at, failed ? MonitorEvent.Level.ERROR : MonitorEvent.Level.INFO,
                failed ? outcome.label() + (detail == null ? "" : ": " + detail) : null);
    }

    /** Reads the history recorded since the last read (of every node) into the counts. Returns the rows counted. */
    public int poll() {
        if (!settings.fromHistory()) {
            return 0;
        }
        lock.lock();
        try {
            Instant since = (cursor == null ? clock.instant().minus(settings.window().window()) : cursor)
                    .minus(settings.pollOverlap());
            int counted = 0;
            while (true) {
                List<FinishedAttempt> rows = store.attemptsFinishedSince(since, settings.pollBatch());
                for (FinishedAttempt row : rows) {
                    AttemptRecord a = row.attempt();
                    long id = (row.jobId().hi() * 31 + row.jobId().lo()) * 1_000_003L + a.attempt();
                    if (seen.putIfAbsent(id, a.finishedAt()) != null || a.target() == null) {
                        continue;
                    }
                    counts.record(event(new TargetKey(row.tenant(), a.target()), a.finishedAt(), a.outcome(),
                            a.detail()));
                    counted++;
                    if (cursor == null || a.finishedAt().isAfter(cursor)) {
                        cursor = a.finishedAt();
                    }
                }
                if (rows.size() < settings.pollBatch()) {
                    break;
                }
                Instant last = rows.getLast().attempt().finishedAt();
                // A full batch of one millisecond would be read again forever: step past it.
                since = last.equals(since) ? last.plusMillis(1) : last;
            }
            forgetSeenBefore(cursor == null ? since : cursor.minus(settings.pollOverlap()));
            return counted;
        } finally {
            lock.unlock();
        }
    }

    private void forgetSeenBefore(Instant limit) {
        for (Iterator<Map.Entry<Long, Instant>> it = seen.entrySet().iterator(); it.hasNext(); ) {
            if (!it.next().getValue().isBefore(limit)) {
                return; // the rest were read later; a late row among them goes at a later prune
            }
            it.remove();
        }
    }

    /**
     * Judges every target: raises and clears alarms, pauses targets alarming too long (when their tenant opted in),
     * and lets the due probes through. Each change is written by compare-and-set and told once.
     */
    public void evaluate() {
        List<TargetEvent> events = new ArrayList<>();
        lock.lock();
        try {
            Instant now = clock.instant();
            refreshShared();
            Map<TargetKey, SourceStats> stats = statsByKey();
            Set<TargetKey> keys = new HashSet<>(stats.keySet());
            keys.addAll(shared.keySet());
            for (TargetKey key : keys) {
                TargetPolicy policy = policies.apply(key.tenant());
                SourceStats s = stats.get(key);
                AlarmState previous = alarms.getOrDefault(key, AlarmState.healthy(now));
                AlarmState next = previous.next(s == null ? new dev.hourglass.core.monitor.Evaluation(0, 0, 0)
                        : s.evaluation(), policy.alarm(), now);
                if (next.changedFrom(previous)) {
                    TargetState current = shared.get(key);
                    TargetState written = write(key, current, next.level(), now,
                            current == null ? null : current.paused(), current == null ? null : current.pausedAt(),
                            current == null ? null : current.pausedBy(), now);
                    if (written != null) {
                        alarms.put(key, next);
                        events.add(new TargetEvent(next.level() == AlarmLevel.ALARMING
                                ? TargetEvent.Type.ALARM_RAISED : TargetEvent.Type.ALARM_CLEARED, now,
                                status(key, s), node));
                    }
                } else {
                    alarms.put(key, next);
                }
                autoPause(key, policy, s, now, events);
            }
            // Targets the counts forgot (evicted past maxSources) and the store holds no state of: their streaks go
            // too, so this map stays as bounded as the counts.
            alarms.keySet().retainAll(keys);
            probe(now);
        } finally {
            lock.unlock();
        }
        tell(events);
    }

    /**
     * Pauses the target when it has alarmed longer than its tenant allows (with auto-pause on) and its latest attempt
     * failed: a target that was resumed and now delivers is not paused again on the failures still in its window.
     * The alarm's time counts from its raise or from the last resume ({@link #resumed}). Under the lock.
     */
    private void autoPause(TargetKey key, TargetPolicy policy, SourceStats stats, Instant now,
            List<TargetEvent> events) {
        TargetState state = shared.get(key);
        if (!policy.autoPause() || state == null || state.isPaused() || state.level() != AlarmLevel.ALARMING
                || stats == null || stats.consecutiveFailures() == 0
                || Duration.between(state.since(), now).compareTo(policy.pauseAfter()) < 0) {
            return;
        }
        TargetState written = write(key, state, state.level(), state.since(), TargetState.Pause.AUTO, now, node, now);
        if (written != null) {
            probes.put(key, new Probe(now.plus(policy.firstProbeAfter()), policy.firstProbeAfter()));
            holds.pause(key, TargetState.Pause.AUTO);
            events.add(new TargetEvent(TargetEvent.Type.PAUSED, now, status(key, statsByKey().get(key)), node));
        }
    }

    /** Lets one held job through for each auto-paused target whose probe is due. Under the lock. */
    private void probe(Instant now) {
        for (Map.Entry<TargetKey, Probe> e : probes.entrySet()) {
            TargetState state = shared.get(e.getKey());
            if (state == null || state.paused() != TargetState.Pause.AUTO || now.isBefore(e.getValue().due())) {
                continue;
            }
            TargetPolicy policy = policies.apply(e.getKey().tenant());
            Duration interval = e.getValue().interval();
            Duration nextInterval = interval.multipliedBy(2).compareTo(policy.maxProbeInterval()) > 0
                    ? policy.maxProbeInterval() : interval.multipliedBy(2);
            // Each probe that fails doubles the wait before the next (a success resumes the target and ends them).
            e.setValue(new Probe(now.plus(nextInterval), nextInterval));
            holds.probeDue(e.getKey());
        }
    }

    /**
     * How a probe of an auto-paused target went (the dispatcher calls this when the probe's attempt ends): a success
     * resumes the target (its held jobs start again, a few at a time at first); a failure leaves it paused until the
     * next probe, which waits twice as long (up to the policy's maximum).
     */
    public void probeEnded(TargetKey key, boolean succeeded) {
        if (!succeeded) {
            return;
        }
        TargetEvent event = null;
        lock.lock();
        try {
            TargetState state = shared.get(key);
            if (state == null || state.paused() != TargetState.Pause.AUTO) {
                return;
            }
            Instant now = clock.instant();
            if (write(key, state, state.level(), resumed(state, now), null, null, null, now) != null) {
                probes.remove(key);
                holds.resume(key);
                event = new TargetEvent(TargetEvent.Type.RESUMED, now, status(key, statsByKey().get(key)), node);
            }
        } finally {
            lock.unlock();
        }
        if (event != null) {
            tell(List.of(event));
        }
    }

    /**
     * Pauses a target by hand: its due jobs are held until {@link #resume}. Returns the target after the change, or
     * empty when the monitor knows no such target of the tenant (by id or by name).
     */
    public Optional<TargetStatus> pause(String tenant, String idOrTarget, String by) {
        return change(tenant, idOrTarget, by, true);
    }

    /** Resumes a paused target (paused by hand or by the monitor); its held jobs start again, a few at first. */
    public Optional<TargetStatus> resume(String tenant, String idOrTarget, String by) {
        return change(tenant, idOrTarget, by, false);
    }

    private Optional<TargetStatus> change(String tenant, String idOrTarget, String by, boolean pause) {
        TargetEvent event = null;
        TargetStatus result;
        lock.lock();
        try {
            refreshShared();
            Optional<TargetKey> found = find(tenant, idOrTarget);
            if (found.isEmpty()) {
                return Optional.empty();
            }
            TargetKey key = found.get();
            Instant now = clock.instant();
            for (int tries = 0; tries < 3; tries++) {
                TargetState state = shared.get(key);
                boolean isPaused = state != null && state.isPaused();
                if (isPaused == pause) {
                    break; // already as asked: nothing to tell
                }
                AlarmLevel level = state == null ? alarms.getOrDefault(key, AlarmState.healthy(now)).level()
                        : state.level();
                Instant since = state == null ? now : state.since();
                TargetState written = pause
                        ? write(key, state, level, since, TargetState.Pause.MANUAL, now, by, now)
                        : write(key, state, level, resumed(state, now), null, null, null, now);
                if (written != null) {
                    if (pause) {
                        probes.remove(key);
                        holds.pause(key, TargetState.Pause.MANUAL);
                    } else {
                        probes.remove(key);
                        holds.resume(key);
                    }
                    event = new TargetEvent(pause ? TargetEvent.Type.PAUSED : TargetEvent.Type.RESUMED, now,
                            status(key, statsByKey().get(key)), by);
                    break;
                }
            }
            result = status(key, statsByKey().get(key));
        } finally {
            lock.unlock();
        }
        if (event != null) {
            tell(List.of(event));
        }
        return Optional.of(result);
    }

    /**
     * The alarm's {@code since} after a resume: now for a target still alarming, so that an auto-pause waits its
     * whole delay again before it pauses the target anew.
     */
    private static Instant resumed(TargetState state, Instant now) {
        return state == null ? now : state.level() == AlarmLevel.ALARMING ? now : state.since();
    }

    /** The tenant's targets (every tenant's when {@code tenant} is null), by target name. */
    public List<TargetStatus> targets(String tenant) {
        lock.lock();
        try {
            Map<TargetKey, SourceStats> stats = statsByKey();
            Set<TargetKey> keys = new HashSet<>(stats.keySet());
            keys.addAll(shared.keySet());
            return keys.stream()
                    .filter(k -> tenant == null || k.tenant().equals(tenant))
                    .sorted(Comparator.comparing(TargetKey::tenant).thenComparing(TargetKey::target))
                    .map(k -> status(k, stats.get(k)))
                    .toList();
        } finally {
            lock.unlock();
        }
    }

    /** One target of the tenant, by its id or its name (a webhook's origin). */
    public Optional<TargetStatus> target(String tenant, String idOrTarget) {
        lock.lock();
        try {
            return find(tenant, idOrTarget).map(k -> status(k, statsByKey().get(k)));
        } finally {
            lock.unlock();
        }
    }

    /** Attempts dropped for being older than the window when read, and targets forgotten past the limit. */
    public long lateEvents() {
        return counts.lateEvents();
    }

    private Optional<TargetKey> find(String tenant, String idOrTarget) {
        TargetKey byName = new TargetKey(tenant, idOrTarget);
        Map<TargetKey, SourceStats> stats = statsByKey();
        if (shared.containsKey(byName) || stats.containsKey(byName)) {
            return Optional.of(byName);
        }
        Set<TargetKey> keys = new HashSet<>(stats.keySet());
        keys.addAll(shared.keySet());
        return keys.stream().filter(k -> k.tenant().equals(tenant) && k.id().equals(idOrTarget)).findFirst();
    }

    private Map<TargetKey, SourceStats> statsByKey() {
        Map<TargetKey, SourceStats> byKey = new HashMap<>();
        for (SourceStats s : counts.allStats()) {
            byKey.put(TargetKey.ofSource(s.source()), s);
        }
        return byKey;
    }

    private TargetStatus status(TargetKey key, SourceStats s) {
        TargetState state = shared.get(key);
        AlarmState alarm = alarms.get(key);
        AlarmLevel level = state != null ? state.level() : alarm != null ? alarm.level() : AlarmLevel.HEALTHY;
        Instant since = state != null ? state.since() : alarm != null ? alarm.since() : null;
        return new TargetStatus(key, key.id(), level, since,
                s == null ? 0 : s.total(), s == null ? 0 : s.errors(), s == null ? 0 : s.errorRate(),
                s == null ? 0 : s.movingAverage(), s == null ? 0 : s.consecutiveFailures(),
                s == null ? null : s.lastError(), s == null ? null : s.lastErrorAt(),
                state == null ? null : state.paused(), state == null ? null : state.pausedAt(),
                state == null ? null : state.pausedBy(), holds.held(key));
    }

    /**
     * Reads the shared states and adopts what other nodes wrote: their alarm levels (streaks start again) and their
     * pauses and resumes (the holds follow). Under the lock.
     */
    private void refreshShared() {
        List<TargetState> states = store.targetStates();
        for (TargetState state : states) {
            TargetKey key = new TargetKey(state.tenant(), state.target());
            TargetState before = shared.put(key, state);
            adopt(key, before, state);
        }
    }

    /** Makes this node's alarm and hold agree with a state another node (or an earlier run) wrote. */
    private void adopt(TargetKey key, TargetState before, TargetState state) {
        AlarmState alarm = alarms.get(key);
        if (alarm == null || alarm.level() != state.level()) {
            alarms.put(key, new AlarmState(state.level(), state.since(), 0, 0));
        }
        boolean wasPaused = before != null && before.isPaused();
        if (state.isPaused() && (!wasPaused || before.paused() != state.paused())) {
            holds.pause(key, state.paused());
            if (state.paused() == TargetState.Pause.AUTO && !probes.containsKey(key)) {
                TargetPolicy policy = policies.apply(key.tenant());
                probes.put(key, new Probe(state.pausedAt().plus(policy.firstProbeAfter()), policy.firstProbeAfter()));
            }
        } else if (!state.isPaused() && wasPaused) {
            probes.remove(key);
            holds.resume(key);
        }
    }

    /**
     * Writes the target's next state by compare-and-set on {@code current}'s version (a first version when there is
     * none). Returns the state written, or null when another node wrote first (its state is then read and adopted).
     * Under the lock.
     */
    private TargetState write(TargetKey key, TargetState current, AlarmLevel level, Instant since,
            TargetState.Pause paused, Instant pausedAt, String pausedBy, Instant now) {
        TargetState next = current == null
                ? new TargetState(key.tenant(), key.target(), level, since, paused, pausedAt, pausedBy, 1, now)
                : current.then(level, since, paused, pausedAt, pausedBy, now);
        boolean won = store.write(Durability.FSYNC, tx -> tx.putTargetStates(List.of(next))).getFirst();
        if (won) {
            shared.put(key, next);
            return next;
        }
        for (TargetState state : store.targetStates()) {
            if (state.tenant().equals(key.tenant()) && state.target().equals(key.target())) {
                TargetState before = shared.put(key, state);
                adopt(key, before, state);
            }
        }
        return null;
    }

    private void tell(List<TargetEvent> events) {
        for (TargetEvent event : events) {
            try {
                listener.changed(event);
            } catch (RuntimeException e) {
                log.warn("target event listener failed on {} of {}: {}", event.type().eventName(),
                        event.key().target(), e.toString());
            }
        }
    }

    /** Stops the monitor's thread without waiting for a round in progress (it ends with its store call). */
    @Override
    public void close() {
        ScheduledExecutorService l = loop;
        if (l != null) {
            l.shutdownNow();
        }
    }
}
