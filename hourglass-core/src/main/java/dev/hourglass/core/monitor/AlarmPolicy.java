package dev.hourglass.core.monitor;

/**
 * When an alarm is raised and cleared (see {@link AlarmState#next}). Two thresholds with a gap between them, and
 * streaks of evaluations on each side, so that a rate wavering around one threshold does not flap the alarm.
 * Checked when built: a value out of range throws {@link IllegalArgumentException} naming the field and the rule.
 *
 * @param raiseAt an error rate at or above which an evaluation counts towards raising; in (0, 1]
 * @param clearAt an error rate at or below which an evaluation counts towards clearing; in [0, raiseAt)
 * @param minAttempts the fewest attempts in the window for the rate to count towards raising; ≥ 1
 * @param consecutiveFailures errors in a row that raise at once, and keep the alarm up while they last; ≥ 1
 * @param raiseEvaluations evaluations in a row at or above {@code raiseAt} needed to raise; ≥ 1
 * @param clearEvaluations evaluations in a row at or below {@code clearAt} needed to clear; ≥ 1
 */
public record AlarmPolicy(
        double raiseAt,
        double clearAt,
        long minAttempts,
        int consecutiveFailures,
        int raiseEvaluations,
        int clearEvaluations) {

    /** Raise at 50 % over two evaluations with ≥ 10 attempts, or at 20 errors in a row; clear at 20 % over three. */
    public static final AlarmPolicy DEFAULTS = new AlarmPolicy(0.5, 0.2, 10, 20, 2, 3);

    public AlarmPolicy {
        if (!(raiseAt > 0.0 && raiseAt <= 1.0)) {
            throw new IllegalArgumentException("raiseAt must be in (0, 1], was " + raiseAt);
        }
        if (!(clearAt >= 0.0 && clearAt < raiseAt)) {
            throw new IllegalArgumentException(
                    "clearAt must be in [0, raiseAt) so that there is a gap between them, was " + clearAt
                            + " with raiseAt " + raiseAt);
        }
        if (minAttempts < 1) {
            throw new IllegalArgumentException("minAttempts must be >= 1, was " + minAttempts);
        }
        if (consecutiveFailures < 1) {
            throw new IllegalArgumentException("consecutiveFailures must be >= 1, was " + consecutiveFailures);
        }
        if (raiseEvaluations < 1) {
            throw new IllegalArgumentException("raiseEvaluations must be >= 1, was " + raiseEvaluations);
        }
        if (clearEvaluations < 1) {
            throw new IllegalArgumentException("clearEvaluations must be >= 1, was " + clearEvaluations);
        }
    }
}
