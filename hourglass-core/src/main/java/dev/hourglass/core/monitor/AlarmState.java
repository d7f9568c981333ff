package dev.hourglass.core.monitor;

import java.time.Instant;
import java.util.Objects;

/**
 * The alarm of one source between evaluations: immutable; {@link #next} gives the state after one more evaluation.
 * The caller decides when to evaluate and supplies "now" from its clock; it only stamps {@code since}.
 *
 * <p><b>Rules</b> (with a {@link AlarmPolicy} p and the evaluation's error rate r):
 * <ul>
 *   <li>HEALTHY → ALARMING at once when {@code consecutiveFailures >= p.consecutiveFailures}; or when
 *       {@code r >= p.raiseAt} with {@code total >= p.minAttempts} on {@code p.raiseEvaluations} evaluations in a
 *       row. Any other evaluation resets the raise streak.</li>
 *   <li>ALARMING → HEALTHY after {@code p.clearEvaluations} evaluations in a row with {@code r <= p.clearAt} and
 *       fewer than {@code p.consecutiveFailures} errors in a row. Any other evaluation (a rate above
 *       {@code clearAt}, or the failure streak still at its limit) resets the clear streak. An evaluation with no
 *       attempts at all in the window has r = 0 and counts as clear: a target nobody calls is not failing.
 *       {@code minAttempts} applies to raising only, so a few attempts that succeed do count towards clearing.</li>
 *   <li>So a rate that stays strictly between {@code clearAt} and {@code raiseAt} never changes the level, and
 *       resets both streaks.</li>
 * </ul>
 *
 * <p>Invariants: both streaks ≥ 0; a HEALTHY state has {@code clearStreak == 0}, an ALARMING one
 * {@code raiseStreak == 0}; {@code since} is when the level last changed (or the start), and changes only then.
 *
 * @param level the current level
 * @param since when the source entered this level
 * @param raiseStreak evaluations in a row that counted towards raising (HEALTHY only)
 * @param clearStreak evaluations in a row that counted towards clearing (ALARMING only)
 */
public record AlarmState(AlarmLevel level, Instant since, int raiseStreak, int clearStreak) {
    public AlarmState {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(since, "since");
        if (raiseStreak < 0 || clearStreak < 0) {
            throw new IllegalArgumentException("streaks must be >= 0, were " + raiseStreak + " and " + clearStreak);
        }
        if (level == AlarmLevel.HEALTHY && clearStreak != 0) {
            throw new IllegalArgumentException("a HEALTHY state has no clear streak, was " + clearStreak);
        }
        if (level == AlarmLevel.ALARMING && raiseStreak != 0) {
            throw new IllegalArgumentException("an ALARMING state has no raise streak, was " + raiseStreak);
        }
    }

    /** A source not alarming since {@code since}, with no streak. */
    public static AlarmState healthy(Instant since) {
        return new AlarmState(AlarmLevel.HEALTHY, since, 0, 0);
    }

    /** The state after evaluation {@code e} under policy {@code p} at {@code now} (see the class comment). */
    public AlarmState next(Evaluation e, AlarmPolicy p, Instant now) {
        Objects.requireNonNull(e, "e");
        Objects.requireNonNull(p, "p");
        Objects.requireNonNull(now, "now");
        boolean failing = e.consecutiveFailures() >= p.consecutiveFailures();
        double rate = e.errorRate();
        if (level == AlarmLevel.HEALTHY) {
            if (failing) {
                return new AlarmState(AlarmLevel.ALARMING, now, 0, 0);
            }
            if (rate >= p.raiseAt() && e.total() >= p.minAttempts()) {
                int streak = raiseStreak + 1;
                return streak >= p.raiseEvaluations()
                        ? new AlarmState(AlarmLevel.ALARMING, now, 0, 0)
                        : new AlarmState(AlarmLevel.HEALTHY, since, streak, 0);
            }
            return new AlarmState(AlarmLevel.HEALTHY, since, 0, 0);
        }
        if (!failing && rate <= p.clearAt()) {
            int streak = clearStreak + 1;
            return streak >= p.clearEvaluations()
                    ? new AlarmState(AlarmLevel.HEALTHY, now, 0, 0)
                    : new AlarmState(AlarmLevel.ALARMING, since, 0, streak);
        }
        return new AlarmState(AlarmLevel.ALARMING, since, 0, 0);
    }

    /** True if this state's level differs from {@code previous}'s: the alarm was raised or cleared. */
    public boolean changedFrom(AlarmState previous) {
        return previous.level != level;
    }
}
