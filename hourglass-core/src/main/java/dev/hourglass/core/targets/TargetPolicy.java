package dev.hourglass.core.targets;

import dev.hourglass.core.monitor.AlarmPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * What a tenant's targets are judged by: when an alarm is raised and cleared ({@link AlarmPolicy}), and whether a
 * target alarming for long is paused.
 *
 * @param alarm the thresholds and streaks of the alarm
 * @param autoPause whether a target alarming for longer than {@code pauseAfter} is paused (opt-in)
 * @param pauseAfter how long a target alarms before it is paused
 * @param firstProbeAfter how long after a pause the first probe is tried; each failed probe doubles the wait...
 * @param maxProbeInterval ...up to this
 */
public record TargetPolicy(AlarmPolicy alarm, boolean autoPause, Duration pauseAfter, Duration firstProbeAfter,
        Duration maxProbeInterval) {

    public static final Duration DEFAULT_PAUSE_AFTER = Duration.ofMinutes(30);
    public static final Duration DEFAULT_FIRST_PROBE_AFTER = Duration.ofSeconds(30);
    public static final Duration DEFAULT_MAX_PROBE_INTERVAL = Duration.ofMinutes(10);
    /** The default alarm thresholds, no auto-pause. */
    public static final TargetPolicy DEFAULTS = new TargetPolicy(AlarmPolicy.DEFAULTS, false, DEFAULT_PAUSE_AFTER,
            DEFAULT_FIRST_PROBE_AFTER, DEFAULT_MAX_PROBE_INTERVAL);

    public TargetPolicy {
        Objects.requireNonNull(alarm, "alarm");
        positive("pauseAfter", pauseAfter);
        positive("firstProbeAfter", firstProbeAfter);
        positive("maxProbeInterval", maxProbeInterval);
        if (maxProbeInterval.compareTo(firstProbeAfter) < 0) {
            throw new IllegalArgumentException("maxProbeInterval must be >= firstProbeAfter");
        }
    }

    private static void positive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0, was " + d);
        }
    }

    public TargetPolicy withAlarm(AlarmPolicy value) {
        return new TargetPolicy(value, autoPause, pauseAfter, firstProbeAfter, maxProbeInterval);
    }

    public TargetPolicy withAutoPause(boolean on, Duration after) {
        return new TargetPolicy(alarm, on, after, firstProbeAfter, maxProbeInterval);
    }

    public TargetPolicy withProbes(Duration first, Duration max) {
        return new TargetPolicy(alarm, autoPause, pauseAfter, first, max);
    }
}
