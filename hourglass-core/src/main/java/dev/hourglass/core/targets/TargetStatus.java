package dev.hourglass.core.targets;

import dev.hourglass.core.monitor.AlarmLevel;
import dev.hourglass.core.store.TargetState;
import java.time.Instant;

/**
 * One target as the targets view shows it: its alarm and pause, and its counts over the window, summed over every
 * node (the monitor reads the delivery history all nodes write).
 *
 * @param id the target's short id ({@link TargetKey#id()})
 * @param since when the alarm level last changed (or when the target was first seen)
 * @param total attempts in the window
 * @param errors failed attempts in the window
 * @param errorRate errors / total over the window; 0 with no attempts
 * @param movingAverage the error rate weighted by e^(-age/τ) (see {@link dev.hourglass.core.monitor.SourceStats})
 * @param consecutiveFailures failed attempts in a row, up to the latest
 * @param lastError the latest failure's detail, null if none in memory
 * @param paused null when deliveries flow, else why it is paused
 * @param held this node's due jobs held for the target (still SCHEDULED, attempts not spent)
 */
public record TargetStatus(TargetKey key, String id, AlarmLevel level, Instant since, long total, long errors,
        double errorRate, double movingAverage, int consecutiveFailures, String lastError, Instant lastErrorAt,
        TargetState.Pause paused, Instant pausedAt, String pausedBy, int held) {}
