package dev.hourglass.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.monitor.MonitorEvent.Level;
import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The alarm's hysteresis under the default policy: raise at ≥ 0.5 on two evaluations in a row with ≥ 10 attempts,
 * or at once at 20 errors in a row; clear at ≤ 0.2 on three in a row. Evaluations are one minute apart.
 */
class AlarmStateTest {
    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");
    private static final AlarmPolicy P = AlarmPolicy.DEFAULTS;

    private Instant now = T0;

    /** An evaluation of 100 attempts at {@code rate}, no failure streak. */
    private static Evaluation rate(double rate) {
        return new Evaluation(100, Math.round(rate * 100), 0);
    }

    private AlarmState step(AlarmState s, Evaluation e) {
        now = now.plus(Duration.ofMinutes(1));
        return s.next(e, P, now);
    }

    private AlarmState alarming() {
        return new AlarmState(AlarmLevel.ALARMING, T0, 0, 0);
    }

    @Test
    void defaults() {
        assertThat(P).isEqualTo(new AlarmPolicy(0.5, 0.2, 10, 20, 2, 3));
    }

    @Test
    void aRateWaveringBetweenTheThresholdsNeverChangesTheLevelEitherWay() {
        double[] rates = {0.3, 0.45, 0.25, 0.49, 0.21, 0.3, 0.45, 0.25, 0.49, 0.21};
        AlarmState healthy = AlarmState.healthy(T0);
        AlarmState up = alarming();
        for (double r : rates) {
            healthy = step(healthy, rate(r));
            up = up.next(rate(r), P, now);
            assertThat(healthy).isEqualTo(AlarmState.healthy(T0));
            assertThat(up).isEqualTo(alarming());
        }
    }

    @Test
    void aValueBetweenTheThresholdsResetsTheStreaks() {
        AlarmState s = AlarmState.healthy(T0);
        for (int i = 0; i < 5; i++) { // 0.5, 0.3, 0.5, 0.3, ...: never two in a row
            s = step(s, rate(0.5));
            assertThat(s.raiseStreak()).isEqualTo(1);
            s = step(s, rate(0.3));
            assertThat(s).isEqualTo(AlarmState.healthy(T0));
        }
        AlarmState a = alarming();
        for (int i = 0; i < 5; i++) { // 0.2, 0.2, 0.3, ...: never three in a row
            a = step(a, rate(0.2));
            a = step(a, rate(0.2));
            assertThat(a.clearStreak()).isEqualTo(2);
            a = step(a, rate(0.3));
            assertThat(a).isEqualTo(alarming());
        }
    }

    @Test
    void aRateBelowClearAtAlsoBreaksARaiseStreakAndOneAboveRaiseAtAClearStreak() {
        AlarmState s = step(AlarmState.healthy(T0), rate(0.9));
        s = step(s, rate(0.0));
        s = step(s, rate(0.9));
        assertThat(s.level()).isEqualTo(AlarmLevel.HEALTHY);
        assertThat(s.raiseStreak()).isEqualTo(1);

        AlarmState a = step(alarming(), rate(0.1));
        a = step(a, rate(0.1));
        a = step(a, rate(0.9));
        assertThat(a).isEqualTo(alarming());
    }

    @Test
    void raisingTakesTwoEvaluationsInARowAtOrAboveRaiseAt() {
        AlarmState s0 = AlarmState.healthy(T0);
        AlarmState s1 = step(s0, rate(0.5));
        assertThat(s1).isEqualTo(new AlarmState(AlarmLevel.HEALTHY, T0, 1, 0));
        assertThat(s1.changedFrom(s0)).isFalse();
        AlarmState s2 = step(s1, rate(0.5));
        assertThat(s2).isEqualTo(new AlarmState(AlarmLevel.ALARMING, T0.plus(Duration.ofMinutes(2)), 0, 0));
        assertThat(s2.changedFrom(s1)).isTrue();
        AlarmState s3 = step(s2, rate(1.0));
        assertThat(s3).isEqualTo(s2); // since stays while the level does
        assertThat(s3.changedFrom(s2)).isFalse();
        // Just below raiseAt does not count.
        assertThat(step(step(AlarmState.healthy(T0), rate(0.49)), rate(0.49)).level()).isEqualTo(AlarmLevel.HEALTHY);
    }

    @Test
    void clearingTakesThreeEvaluationsInARowAtOrBelowClearAt() {
        AlarmState a0 = alarming();
        AlarmState a1 = step(a0, rate(0.2));
        AlarmState a2 = step(a1, rate(0.0));
        assertThat(a1).isEqualTo(new AlarmState(AlarmLevel.ALARMING, T0, 0, 1));
        assertThat(a2).isEqualTo(new AlarmState(AlarmLevel.ALARMING, T0, 0, 2));
        assertThat(a2.changedFrom(a1)).isFalse();
        AlarmState a3 = step(a2, rate(0.1));
        assertThat(a3).isEqualTo(AlarmState.healthy(T0.plus(Duration.ofMinutes(3))));
        assertThat(a3.changedFrom(a2)).isTrue();
        // Just above clearAt does not count.
        AlarmState b = alarming();
        for (int i = 0; i < 10; i++) {
            b = step(b, rate(0.21));
        }
        assertThat(b).isEqualTo(alarming());
    }

    @Test
    void twentyErrorsInARowRaiseAtOnceEvenWithFewAttempts() {
        AlarmState s0 = AlarmState.healthy(T0);
        assertThat(step(s0, new Evaluation(9, 9, 19))).isEqualTo(s0); // below minAttempts and the streak limit
        AlarmState s1 = step(s0, new Evaluation(5, 5, 20));
        assertThat(s1.level()).isEqualTo(AlarmLevel.ALARMING);
        assertThat(s1.since()).isEqualTo(now);
        assertThat(s1.changedFrom(s0)).isTrue();
        // Even at a low rate over the window: the streak is the newest news.
        assertThat(step(s0, new Evaluation(1000, 20, 20)).level()).isEqualTo(AlarmLevel.ALARMING);
    }

    @Test
    void aFailureStreakAtItsLimitKeepsTheAlarmUpWhateverTheRate() {
        AlarmState a = alarming();
        for (int i = 0; i < 5; i++) {
            a = step(a, new Evaluation(0, 0, 20)); // the window emptied, but the last 20 attempts failed
        }
        assertThat(a).isEqualTo(alarming());
        a = step(a, new Evaluation(1000, 20, 20));
        assertThat(a).isEqualTo(alarming());
    }

    @Test
    void anEmptyWindowCountsAsClear() {
        AlarmState a = alarming();
        a = step(a, new Evaluation(0, 0, 0));
        a = step(a, new Evaluation(0, 0, 0));
        assertThat(a.level()).isEqualTo(AlarmLevel.ALARMING);
        a = step(a, new Evaluation(0, 0, 0));
        assertThat(a.level()).isEqualTo(AlarmLevel.HEALTHY);
        // And an empty window never raises.
        AlarmState h = AlarmState.healthy(T0);
        for (int i = 0; i < 5; i++) {
            h = step(h, new Evaluation(0, 0, 0));
        }
        assertThat(h).isEqualTo(AlarmState.healthy(T0));
    }

    @Test
    void fewerThanMinAttemptsNeverRaiseOnTheRateButDoCountTowardsClearing() {
        AlarmState s = AlarmState.healthy(T0);
        for (int i = 0; i < 5; i++) {
            s = step(s, new Evaluation(9, 9, 0));
        }
        assertThat(s).isEqualTo(AlarmState.healthy(T0));
        s = step(s, new Evaluation(10, 5, 0));
        s = step(s, new Evaluation(10, 5, 0));
        assertThat(s.level()).isEqualTo(AlarmLevel.ALARMING);

        AlarmState a = alarming();
        for (int i = 0; i < 3; i++) {
            a = step(a, new Evaluation(2, 0, 0));
        }
        assertThat(a.level()).isEqualTo(AlarmLevel.HEALTHY);
    }

    @Test
    void aSinglePassPolicyRaisesAndClearsOnOneEvaluation() {
        AlarmPolicy eager = new AlarmPolicy(1.0, 0.0, 1, 1, 1, 1);
        AlarmState s = AlarmState.healthy(T0).next(new Evaluation(1, 1, 0), eager, T0.plusSeconds(1));
        assertThat(s).isEqualTo(new AlarmState(AlarmLevel.ALARMING, T0.plusSeconds(1), 0, 0));
        s = s.next(new Evaluation(1, 0, 0), eager, T0.plusSeconds(2));
        assertThat(s).isEqualTo(AlarmState.healthy(T0.plusSeconds(2)));
    }

    @Test
    void fedFromTheMonitorAnAlarmRaisesAndClearsWithTheWindow() {
        MonitorConfig config =
                new MonitorConfig(Duration.ofMinutes(1), Duration.ofMinutes(3), Duration.ofMinutes(1), 10);
        ManualClock clock = new ManualClock(T0);
        ErrorRateMonitor monitor = new ErrorRateMonitor(config, clock);
        // Per minute 10 attempts: successes first, then this many errors (so the failure streak stays below 20).
        int[] failing = {0, 9, 9, 9, 0, 0, 0, 3, 3};
        // The rate over the three-minute window at each evaluation, and the level after it.
        double[] rates = {0.0, 0.45, 0.6, 0.9, 0.6, 0.3, 0.0, 0.1, 0.2};
        AlarmLevel h = AlarmLevel.HEALTHY;
        AlarmLevel a = AlarmLevel.ALARMING;
        AlarmLevel[] levels = {h, h, h, a, a, a, a, a, h};
        AlarmState state = AlarmState.healthy(T0);
        for (int m = 0; m < failing.length; m++) {
            for (int i = 0; i < 10; i++) {
                Level level = i < 10 - failing[m] ? Level.INFO : Level.ERROR;
                monitor.record(new MonitorEvent("t", clock.instant(), level, null));
            }
            SourceStats s = monitor.stats("t").orElseThrow();
            assertThat(s.errorRate()).as("rate at minute %d", m).isEqualTo(rates[m]);
            state = state.next(s.evaluation(), AlarmPolicy.DEFAULTS, clock.instant());
            assertThat(state.level()).as("level at minute %d", m).isEqualTo(levels[m]);
            clock.advance(Duration.ofMinutes(1));
        }
        assertThat(state.since()).isEqualTo(T0.plus(Duration.ofMinutes(8)));
    }

    @Test
    void refusesPoliciesOutOfRange() {
        assertThatThrownBy(() -> new AlarmPolicy(0.5, 0.5, 10, 20, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clearAt must be in [0, raiseAt)");
        assertThatThrownBy(() -> new AlarmPolicy(0.5, -0.1, 10, 20, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clearAt");
        assertThatThrownBy(() -> new AlarmPolicy(0.0, 0.0, 10, 20, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("raiseAt must be in (0, 1]");
        assertThatThrownBy(() -> new AlarmPolicy(1.5, 0.2, 10, 20, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("raiseAt");
        assertThatThrownBy(() -> new AlarmPolicy(Double.NaN, 0.2, 10, 20, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("raiseAt");
        assertThatThrownBy(() -> new AlarmPolicy(0.5, Double.NaN, 10, 20, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clearAt");
        assertThatThrownBy(() -> new AlarmPolicy(0.5, 0.2, 0, 20, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minAttempts must be >= 1");
        assertThatThrownBy(() -> new AlarmPolicy(0.5, 0.2, 10, 0, 2, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("consecutiveFailures must be >= 1");
        assertThatThrownBy(() -> new AlarmPolicy(0.5, 0.2, 10, 20, 0, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("raiseEvaluations must be >= 1");
        assertThatThrownBy(() -> new AlarmPolicy(0.5, 0.2, 10, 20, 2, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clearEvaluations must be >= 1");
    }

    @Test
    void aStateKeepsOnlyTheStreakOfItsLevel() {
        assertThatThrownBy(() -> new AlarmState(AlarmLevel.HEALTHY, T0, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AlarmState(AlarmLevel.ALARMING, T0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AlarmState(AlarmLevel.HEALTHY, T0, -1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
