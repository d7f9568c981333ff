package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.store.TargetState;
import dev.hourglass.core.targets.TargetKey;
import dev.hourglass.core.time.ManualClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The gate alone: what it holds while a target is paused, one probe at a time, and the ramp after a resume. */
class TargetGateTest {
    private static final TargetKey KEY = new TargetKey("acme", "https://receiver.example:443");
    private final JobIdGenerator ids = new JobIdGenerator(new ManualClock(Instant.parse("2026-12-07T12:00:00Z")));
    private final List<TimerEntry> released = new CopyOnWriteArrayList<>();
    private final List<Boolean> probes = new CopyOnWriteArrayList<>();
    private final TargetGate gate = new TargetGate(released::addAll);

    {
        gate.onProbeResults((key, ok) -> probes.add(ok));
    }

    private TimerEntry entry(String tenant, String target) {
        return new TimerEntry(ids.next(), tenant, 0, 1, target);
    }

    private List<TimerEntry> entries(int n) {
        List<TimerEntry> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(entry(KEY.tenant(), KEY.target()));
        }
        return list;
    }

    /** The dispatcher's side: admits what was released, and ends each admitted attempt as {@code ok} says. */
    private int runReleased(boolean ok) {
        List<TimerEntry> now = new ArrayList<>(released);
        released.clear();
        for (TimerEntry e : now) {
            assertThat(gate.admit(e)).as("a released entry is admitted").isTrue();
        }
        for (TimerEntry e : now) {
            gate.attemptEnded(e.tenant(), e.target(), e.id(), ok);
        }
        return now.size();
    }

    @Test
    void admitsEverythingWhileNothingIsPaused() {
        assertThat(gate.admit(entry("acme", KEY.target()))).isTrue();
        assertThat(gate.admit(entry("acme", null))).as("an entry without a target name").isTrue();
    }

    @Test
    void holdsOnlyThePausedTargetOfItsTenant() {
        gate.pause(KEY, TargetState.Pause.MANUAL);

        assertThat(gate.admit(entry("acme", KEY.target()))).isFalse();
        assertThat(gate.admit(entry("acme", "https://other.example:443"))).isTrue();
        assertThat(gate.admit(entry("other-tenant", KEY.target()))).as("another tenant's target").isTrue();
        assertThat(gate.held(KEY)).isEqualTo(1);
    }

    @Test
    void aProbeLetsOneHeldJobThroughAndReportsHowItWent() {
        gate.pause(KEY, TargetState.Pause.AUTO);
        entries(3).forEach(e -> assertThat(gate.admit(e)).isFalse());

        gate.probeDue(KEY);
        gate.probeDue(KEY); // one probe at a time
        assertThat(released).hasSize(1);
        assertThat(gate.held(KEY)).isEqualTo(2);
        runReleased(false);
        assertThat(probes).containsExactly(false);

        gate.probeDue(KEY);
        runReleased(true);
        assertThat(probes).containsExactly(false, true);
    }

    @Test
    void aManualPauseIsNeverProbed() {
        gate.pause(KEY, TargetState.Pause.MANUAL);
        entries(2).forEach(gate::admit);

        gate.probeDue(KEY);

        assertThat(released).isEmpty();
        assertThat(gate.held(KEY)).isEqualTo(2);
    }

    @Test
    void aResumedTargetRampsUpOneTwoFourUntilFullSpeed() {
        gate.pause(KEY, TargetState.Pause.MANUAL);
        entries(200).forEach(e -> assertThat(gate.admit(e)).isFalse());

        gate.resume(KEY);
        List<Integer> rounds = new ArrayList<>();
        while (!released.isEmpty()) {
            rounds.add(runReleased(true));
        }

        // Each round runs the limit at once; all succeed, so the limit doubles, until 64 frees the rest.
        assertThat(rounds.subList(0, 6)).containsExactly(1, 2, 4, 8, 16, 32);
        assertThat(rounds.stream().mapToInt(Integer::intValue).sum()).isEqualTo(200);
        assertThat(gate.held(KEY)).isZero();
        assertThat(gate.admit(entry("acme", KEY.target()))).as("free again").isTrue();
    }

    @Test
    void aFailureDuringTheRampHalvesTheLimit() {
        gate.pause(KEY, TargetState.Pause.MANUAL);
        entries(20).forEach(gate::admit);
        gate.resume(KEY);
        runReleased(true); // 1 -> limit 2
        runReleased(true); // 2 -> limit 4
        assertThat(runReleased(false)).isEqualTo(4); // 4 failures: 4 -> 2 -> 1 -> 1 -> 1
        assertThat(runReleased(true)).as("back to one at a time").isEqualTo(1);
    }

    @Test
    void anAdmittedEntryThatNeverStartedFreesItsSlot() {
        gate.pause(KEY, TargetState.Pause.MANUAL);
        List<TimerEntry> held = entries(3);
        held.forEach(gate::admit);
        gate.resume(KEY);
        TimerEntry first = released.removeFirst();
        assertThat(gate.admit(first)).isTrue();

        gate.notStarted(first); // refused start: the slot is free, the limit unchanged

        assertThat(released).hasSize(1);
    }
}
