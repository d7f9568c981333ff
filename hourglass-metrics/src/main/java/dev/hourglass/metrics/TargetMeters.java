package dev.hourglass.metrics;

import dev.hourglass.core.monitor.AlarmLevel;
import dev.hourglass.core.targets.TargetEvent;
import dev.hourglass.core.targets.TargetEventListener;
import dev.hourglass.core.targets.TargetMonitor;
import dev.hourglass.core.targets.TargetStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The target monitor's meters: {@code hourglass_target_alarm_transitions_total{tenant, type}} counts each change of a
 * target's state (alarm raised or cleared, paused, resumed) on the node that made it, so the sum over nodes counts
 * each change once; {@code hourglass_targets{state}} is how many targets are {@code healthy}, {@code alarming} or
 * {@code paused} (a paused target counts as paused only) as this node sees them, read at each scrape;
 * {@code hourglass_target_late_attempts_total} counts attempts the monitor dropped because they ended before its
 * window when it read them (they are in the history, not in any alarm's counts).
 */
public final class TargetMeters implements TargetEventListener {
    private final MeterRegistry registry;
    private final TenantLabels tenants;
    private final Map<String, Counter> transitions = new ConcurrentHashMap<>();

    /**
     * @param monitor the monitor whose targets the gauges read (at each scrape)
     * @param tenants the bounded tenant labels (shared with the other meters)
     */
    public TargetMeters(MeterRegistry registry, TenantLabels tenants, TargetMonitor monitor) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.tenants = Objects.requireNonNull(tenants, "tenants");
        Objects.requireNonNull(monitor, "monitor");
        Supplier<List<TargetStatus>> targets = () -> monitor.targets(null);
        FunctionCounter.builder("hourglass.target.late.attempts", monitor, TargetMonitor::lateEvents)
                .description("Attempts read after they had left the monitor's window, dropped from its counts")
                .register(registry);
        for (String state : List.of("healthy", "alarming", "paused")) {
            Gauge.builder("hourglass.targets", targets, t -> count(t.get(), state))
                    .description("Watched targets by state, as this node sees them")
                    .tag("state", state)
                    .register(registry);
        }
    }

    private static double count(List<TargetStatus> targets, String state) {
        return targets.stream().filter(t -> state.equals(stateOf(t))).count();
    }

    private static String stateOf(TargetStatus t) {
        if (t.paused() != null) {
            return "paused";
        }
        return t.level() == AlarmLevel.ALARMING ? "alarming" : "healthy";
    }

    @Override
    public void changed(TargetEvent event) {
        String tenant = tenants.of(event.key().tenant());
        String type = event.type().label();
        transitions.computeIfAbsent(tenant + '\n' + type, k -> Counter.builder("hourglass.target.alarm.transitions")
                .description("Changes of a target's state (alarm raised or cleared, paused, resumed), counted once "
                        + "over the cluster")
                .tag("tenant", tenant)
                .tag("type", type)
                .register(registry)).increment();
    }
}
