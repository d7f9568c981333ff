package dev.hourglass.server;

import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.core.targets.TargetPolicy;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * How the server's target monitor runs, for embedders and tests rather than operators (no command-line setting):
 * its window, evaluation and read cadence, and an adjustment of every tenant's policy (probe waits; a pause delay
 * below the one-minute floor of the tenant settings). The defaults are the product's: a 15-minute window of 1-minute
 * buckets, an evaluation every 30 s, the history read every 2 s, each tenant's policy as its settings make it.
 *
 * @param monitor the monitor's settings
 * @param tuning applied to each tenant's policy as the monitor asks for it
 */
public record TargetWatching(TargetMonitor.Settings monitor, UnaryOperator<TargetPolicy> tuning) {
    public static final TargetWatching DEFAULTS = new TargetWatching(TargetMonitor.Settings.DEFAULTS,
            UnaryOperator.identity());

    public TargetWatching {
        Objects.requireNonNull(monitor, "monitor");
        Objects.requireNonNull(tuning, "tuning");
    }
}
