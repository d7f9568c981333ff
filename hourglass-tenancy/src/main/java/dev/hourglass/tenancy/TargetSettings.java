package dev.hourglass.tenancy;

import dev.hourglass.core.monitor.AlarmPolicy;
import dev.hourglass.core.targets.TargetPolicy;
import dev.hourglass.webhook.WebhookUrls;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How one tenant's webhook targets are watched: when an alarm on a target is raised and cleared, whether a target
 * alarming for long is paused, and where the operations events ({@code target.alarm.raised},
 * {@code target.alarm.cleared}, {@code target.paused}, {@code target.resumed}, {@code job.failed}) are sent. Checked
 * when built: {@link #problems} lists every field out of range, and the constructor throws
 * {@link IllegalArgumentException} naming the first.
 *
 * <p>The streaks ({@link AlarmPolicy#raiseEvaluations()}, {@link AlarmPolicy#clearEvaluations()}) and the probe
 * waits are not a tenant's to choose: {@link #policy()} takes them from {@link AlarmPolicy#DEFAULTS} and
 * {@link TargetPolicy#DEFAULTS}, so that every tenant's alarms flap and recover alike.
 *
 * @param raiseAt an error rate at or above which an evaluation counts towards raising; in (0, 1]
 * @param clearAt an error rate at or below which an evaluation counts towards clearing; in [0, raiseAt)
 * @param minAttempts the fewest attempts in the window for the rate to count; ≥ 1
 * @param consecutiveFailures errors in a row that raise the alarm at once; ≥ 1
 * @param autoPause whether a target alarming for {@code autoPauseAfterSeconds} is paused (opt-in)
 * @param autoPauseAfterSeconds how long a target alarms before it is paused; {@value #MIN_AUTO_PAUSE_AFTER_SECONDS}
 *     .. {@value #MAX_AUTO_PAUSE_AFTER_SECONDS}
 * @param operationsWebhook where the tenant's operations events go, an http(s) URL that {@link WebhookUrls} accepts;
 *     null for nowhere. Whether its host is an address webhooks may reach is the caller's check (the admin API makes
 *     it with the server's address guard), as for a job's target.
 */
public record TargetSettings(
        double raiseAt,
        double clearAt,
        long minAttempts,
        int consecutiveFailures,
        boolean autoPause,
        long autoPauseAfterSeconds,
        URI operationsWebhook) {

    /** A minute: a shorter pause would follow a single bad evaluation window. */
    public static final long MIN_AUTO_PAUSE_AFTER_SECONDS = 60;
    /** Thirty days: longer is "never", which is {@code autoPause} false. */
    public static final long MAX_AUTO_PAUSE_AFTER_SECONDS = 30L * 86_400;

    /** {@link AlarmPolicy#DEFAULTS}' thresholds, no auto-pause (after 30 minutes once on), no operations webhook. */
    public static final TargetSettings DEFAULTS = new TargetSettings(AlarmPolicy.DEFAULTS.raiseAt(),
            AlarmPolicy.DEFAULTS.clearAt(), AlarmPolicy.DEFAULTS.minAttempts(),
            AlarmPolicy.DEFAULTS.consecutiveFailures(), false, TargetPolicy.DEFAULT_PAUSE_AFTER.toSeconds(), null);

    /** A field out of range, by its name in this record (and in the admin API's {@code targets} object). */
    public record Problem(String field, String rule) {
        @Override
        public String toString() {
            return field + " " + rule;
        }
    }

    public TargetSettings {
        List<Problem> problems = problems(raiseAt, clearAt, minAttempts, consecutiveFailures, autoPauseAfterSeconds,
                operationsWebhook);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.getFirst().toString());
        }
    }

    /** Every field of these values that is out of range, in the order of the record; empty when they are valid. */
    public static List<Problem> problems(double raiseAt, double clearAt, long minAttempts, int consecutiveFailures,
            long autoPauseAfterSeconds, URI operationsWebhook) {
        List<Problem> problems = new ArrayList<>();
        boolean raiseOk = raiseAt > 0.0 && raiseAt <= 1.0; // false for NaN too
        if (!raiseOk) {
            problems.add(new Problem("raiseAt", "must be a number in (0, 1], was " + raiseAt));
        }
        if (!(clearAt >= 0.0 && clearAt < 1.0)) {
            problems.add(new Problem("clearAt", "must be a number in [0, raiseAt), was " + clearAt));
        } else if (raiseOk && clearAt >= raiseAt) {
            // The gap is what keeps a rate wavering around one threshold from flapping the alarm.
            problems.add(new Problem("clearAt", "must be below raiseAt (" + raiseAt + "), was " + clearAt));
        }
        if (minAttempts < 1) {
            problems.add(new Problem("minAttempts", "must be >= 1, was " + minAttempts));
        }
        if (consecutiveFailures < 1) {
            problems.add(new Problem("consecutiveFailures", "must be >= 1, was " + consecutiveFailures));
        }
        if (autoPauseAfterSeconds < MIN_AUTO_PAUSE_AFTER_SECONDS
                || autoPauseAfterSeconds > MAX_AUTO_PAUSE_AFTER_SECONDS) {
            problems.add(new Problem("autoPauseAfterSeconds", "must be between " + MIN_AUTO_PAUSE_AFTER_SECONDS
                    + " and " + MAX_AUTO_PAUSE_AFTER_SECONDS + ", was " + autoPauseAfterSeconds));
        }
        if (operationsWebhook != null) {
            WebhookUrls.Checked checked = WebhookUrls.check(operationsWebhook.toString());
            if (!checked.ok()) {
                problems.add(new Problem("operationsWebhook", checked.refusal()));
            }
        }
        return problems;
    }

    /** How long a target alarms before it is paused, when {@link #autoPause()} is on. */
    public Duration autoPauseAfter() {
        return Duration.ofSeconds(autoPauseAfterSeconds);
    }

    /** The monitor's policy: these thresholds and auto-pause, the default streaks and probe waits. */
    public TargetPolicy policy() {
        AlarmPolicy alarm = new AlarmPolicy(raiseAt, clearAt, minAttempts, consecutiveFailures,
                AlarmPolicy.DEFAULTS.raiseEvaluations(), AlarmPolicy.DEFAULTS.clearEvaluations());
        return TargetPolicy.DEFAULTS.withAlarm(alarm).withAutoPause(autoPause, autoPauseAfter());
    }

    public TargetSettings withThresholds(double raise, double clear, long attempts, int failures) {
        return new TargetSettings(raise, clear, attempts, failures, autoPause, autoPauseAfterSeconds,
                operationsWebhook);
    }

    public TargetSettings withAutoPause(boolean on, long afterSeconds) {
        return new TargetSettings(raiseAt, clearAt, minAttempts, consecutiveFailures, on, afterSeconds,
                operationsWebhook);
    }

    /** @param value the URL, or null for none */
    public TargetSettings withOperationsWebhook(URI value) {
        return new TargetSettings(raiseAt, clearAt, minAttempts, consecutiveFailures, autoPause,
                autoPauseAfterSeconds, value);
    }
}
