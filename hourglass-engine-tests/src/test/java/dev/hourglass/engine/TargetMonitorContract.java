package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.monitor.AlarmLevel;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.TargetState;
import dev.hourglass.core.targets.TargetEvent;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.core.targets.TargetPolicy;
import dev.hourglass.core.targets.TargetStatus;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.testing.ManualEngine;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The target monitor inside real engines on a real store, on a manual clock: attempts are counted from the delivery
 * history, alarms are raised and cleared once, a target alarming too long is paused and its due jobs held without
 * spending attempts, a probe resumes it, and the state survives a restart. The handler "receiver" fails while
 * {@link #failing} is set; its target is the handler's name.
 */
abstract class TargetMonitorContract {
    static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");
    static final String TARGET = "receiver";

    protected final ManualClock clock = new ManualClock(T0);
    protected JobStore store;
    private final List<ManualEngine> engines = new ArrayList<>();
    final List<TargetEvent> events = new CopyOnWriteArrayList<>();
    final List<String> early = new CopyOnWriteArrayList<>();
    final AtomicBoolean failing = new AtomicBoolean();

    protected abstract JobStore openStore();

    protected abstract void dispose(JobStore store);

    @BeforeEach
    void open() {
        store = openStore();
    }

    @AfterEach
    void closeAll() {
        engines.forEach(ManualEngine::close);
        dispose(store);
        assertThat(early).as("jobs fired before their due time").isEmpty();
    }

    /** Auto-pause after 2 minutes of alarm, first probe 30 s after the pause; evaluations are called by the test. */
    static final TargetPolicy POLICY = TargetPolicy.DEFAULTS.withAutoPause(true, Duration.ofMinutes(2))
            .withProbes(Duration.ofSeconds(30), Duration.ofMinutes(4));

    ManualEngine engine(String node) {
        ManualEngine engine = ManualEngine.start(Hourglass.builder()
                .store(store, false)
                .config(EngineConfig.builder(node).defaultMaxAttempts(1)
                        .defaultBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1)))
                        .shutdownGrace(Duration.ofSeconds(5)).build())
                .watchTargets(TargetMonitor.Settings.DEFAULTS, tenant -> POLICY, events::add)
                .handler(TARGET, ctx -> {
                    if (clock.millis() < ctx.dueAt().toEpochMilli()) {
                        early.add(ctx.id() + " at " + clock.instant());
                    }
                    return failing.get() ? Outcome.failed("receiver down") : Outcome.succeeded();
                }), clock);
        engines.add(engine);
        return engine;
    }

    /** Closes an engine before the test ends (a node that stops gracefully). */
    void stop(ManualEngine engine) {
        engines.remove(engine);
        engine.close();
    }

    static TargetMonitor monitor(ManualEngine engine) {
        return engine.hourglass().targets().orElseThrow();
    }

    static List<JobId> schedule(ManualEngine engine, int count, Duration after) {
        List<JobId> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(engine.hourglass().schedule(JobRequest.of(TARGET, ("j" + i).getBytes(StandardCharsets.UTF_8)),
                    When.after(after)).job().id());
        }
        return ids;
    }

    static TargetStatus status(ManualEngine engine) {
        return monitor(engine).target("default", TARGET).orElseThrow();
    }

    /**
     * Reads the history and judges, as the monitor's thread does every few seconds. A horizon round first renews the
     * node's lease (on a shared store nothing starts while it may have run out), as the loader does every second.
     */
    static void evaluate(ManualEngine engine) {
        engine.runHorizonRound();
        monitor(engine).poll();
        monitor(engine).evaluate();
    }

    List<TargetEvent.Type> eventTypes() {
        return events.stream().map(TargetEvent::type).toList();
    }

    @Test
    void countsEveryRecordedAttemptOfTheTargetFromTheHistory() {
        ManualEngine engine = engine("a");
        failing.set(true);
        schedule(engine, 3, Duration.ZERO);
        engine.runDue();
        failing.set(false);
        List<JobId> ok = schedule(engine, 2, Duration.ZERO);
        engine.runDue();

        monitor(engine).poll();
        TargetStatus s = status(engine);
        assertThat(s.total()).isEqualTo(5);
        assertThat(s.errors()).isEqualTo(3);
        assertThat(s.consecutiveFailures()).isZero();
        assertThat(s.lastError()).startsWith("handler_error");
        assertThat(monitor(engine).poll()).as("nothing counted twice").isZero();

        List<AttemptRecord> history = engine.hourglass().attempts(ok.getFirst(), 0, 10);
        assertThat(history).hasSize(1);
        assertThat(history.getFirst().outcome()).isEqualTo(DeliveryAttempt.Result.SUCCESS);
        assertThat(history.getFirst().target()).isEqualTo(TARGET);
        assertThat(history.getFirst().node()).isEqualTo("a");
    }

    @Test
    void raisesTheAlarmOnceAfterTwoEvaluationsAndClearsItAfterThree() {
        ManualEngine engine = engine("a");
        failing.set(true);
        schedule(engine, 12, Duration.ZERO);
        engine.runDue();
        // 12 of 12 failed, but the streak rule (20) is not met: the rate needs two evaluations in a row.
        evaluate(engine);
        assertThat(status(engine).level()).isEqualTo(AlarmLevel.HEALTHY);
        evaluate(engine);
        assertThat(status(engine).level()).isEqualTo(AlarmLevel.ALARMING);
        evaluate(engine);
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.ALARM_RAISED);

        failing.set(false);
        schedule(engine, 60, Duration.ZERO);
        engine.runDue(); // 12 errors of 72: 0.17 <= 0.2
        evaluate(engine);
        evaluate(engine);
        assertThat(status(engine).level()).isEqualTo(AlarmLevel.ALARMING);
        evaluate(engine);
        assertThat(status(engine).level()).isEqualTo(AlarmLevel.HEALTHY);
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.ALARM_RAISED, TargetEvent.Type.ALARM_CLEARED);
    }

    @Test
    void pausesATargetAlarmingTooLongHoldsItsJobsAndResumesAfterASuccessfulProbe() {
        ManualEngine engine = engine("a");
        failing.set(true);
        schedule(engine, 25, Duration.ZERO);
        engine.runDue();
        evaluate(engine); // 25 failures in a row: raised at once
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.ALARM_RAISED);

        engine.advance(Duration.ofMinutes(2));
        evaluate(engine);
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.ALARM_RAISED, TargetEvent.Type.PAUSED);
        assertThat(status(engine).paused()).isEqualTo(TargetState.Pause.AUTO);

        List<JobId> held = schedule(engine, 10, Duration.ofSeconds(5));
        engine.advance(Duration.ofSeconds(5));
        engine.runDue(); // they fire, and the dispatcher holds them
        for (JobId id : held) {
            Job job = engine.hourglass().getStatus(id).orElseThrow();
            assertThat(job.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(job.attempts()).as("no attempt spent").isZero();
        }
        assertThat(status(engine).held()).isEqualTo(10);

        // The first probe (30 s after the pause) fails: still paused, the next probe waits 60 s.
        engine.advance(Duration.ofSeconds(25));
        evaluate(engine);
        engine.runDue();
        assertThat(status(engine).held()).isEqualTo(9);
        assertThat(status(engine).paused()).isEqualTo(TargetState.Pause.AUTO);

        failing.set(false);
        engine.advance(Duration.ofSeconds(30));
        evaluate(engine);
        engine.runDue();
        assertThat(status(engine).held()).as("not yet: the next probe is 60 s after the first").isEqualTo(9);

        engine.advance(Duration.ofSeconds(30));
        evaluate(engine); // the probe succeeds: resumed, the held jobs start 1, 2, 4, ... at once
        engine.runDue();
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.ALARM_RAISED, TargetEvent.Type.PAUSED,
                TargetEvent.Type.RESUMED);
        for (int i = 0; i < 10 && status(engine).held() > 0; i++) {
            engine.runDue();
        }
        assertThat(status(engine).held()).isZero();
        for (JobId id : held.subList(1, held.size())) {
            Job job = engine.hourglass().getStatus(id).orElseThrow();
            assertThat(job.state()).as("delivered once the target resumed").isEqualTo(JobState.SUCCEEDED);
            assertThat(job.attempts()).isEqualTo(1);
        }
        assertThat(engine.hourglass().getStatus(held.getFirst()).orElseThrow().state())
                .as("the failed probe spent its one attempt").isEqualTo(JobState.FAILED);
        assertThat(status(engine).paused()).isNull();
    }

    @Test
    void aPauseByHandHoldsUntilAResumeByHandAndSurvivesARestart() {
        ManualEngine engine = engine("a");
        schedule(engine, 1, Duration.ZERO);
        engine.runDue(); // the monitor knows the target now
        monitor(engine).poll();
        assertThat(monitor(engine).pause("default", TARGET, "operator")).isPresent();
        assertThat(monitor(engine).pause("other-tenant", TARGET, "operator")).as("another tenant's").isEmpty();
        List<JobId> held = schedule(engine, 3, Duration.ZERO);
        engine.runDue();
        for (JobId j : held) {
            assertThat(engine.hourglass().getStatus(j).orElseThrow().attempts()).as("held").isZero();
        }

        stop(engine);
        ManualEngine restarted = engine("a");
        restarted.runDue();
        assertThat(status(restarted).paused()).isEqualTo(TargetState.Pause.MANUAL);
        assertThat(status(restarted).pausedBy()).isEqualTo("operator");
        assertThat(status(restarted).held()).isEqualTo(3);

        String id = status(restarted).id();
        assertThat(monitor(restarted).resume("default", id, "operator")).isPresent(); // by id this time
        for (int i = 0; i < 5 && status(restarted).held() > 0; i++) {
            restarted.runDue();
        }
        for (JobId j : held) {
            assertThat(restarted.hourglass().getStatus(j).orElseThrow().state()).isEqualTo(JobState.SUCCEEDED);
        }
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.PAUSED, TargetEvent.Type.RESUMED);
    }

    @Test
    void anAlarmSurvivesARestartWithoutBeingToldAgain() {
        ManualEngine engine = engine("a");
        failing.set(true);
        schedule(engine, 25, Duration.ZERO);
        engine.runDue();
        evaluate(engine);
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.ALARM_RAISED);
        engines.remove(engine);
        engine.close();

        ManualEngine restarted = engine("a");
        evaluate(restarted);
        evaluate(restarted);
        assertThat(status(restarted).level()).isEqualTo(AlarmLevel.ALARMING);
        assertThat(status(restarted).total()).as("the window read back from the history").isEqualTo(25);
        assertThat(eventTypes()).as("no second raise, no clear").containsExactly(TargetEvent.Type.ALARM_RAISED);
    }
}
