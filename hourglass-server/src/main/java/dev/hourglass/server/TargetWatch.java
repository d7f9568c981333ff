package dev.hourglass.server;

import dev.hourglass.core.targets.TargetEvent;
import dev.hourglass.core.targets.TargetEventListener;
import dev.hourglass.core.targets.TargetPolicy;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * What the server does with the target monitor: each tenant's policy, and who hears each change of a target's state
 * (the log and the operations webhooks, {@link OperationsEvents}; the metrics, once bound).
 */
final class TargetWatch implements TargetEventListener {
    private final OperationsEvents operations;
    private final Function<String, TargetPolicy> policies;
    private final List<TargetEventListener> others = new CopyOnWriteArrayList<>();

    TargetWatch(OperationsEvents operations, Function<String, TargetPolicy> policies) {
        this.operations = Objects.requireNonNull(operations, "operations");
        this.policies = Objects.requireNonNull(policies, "policies");
    }

    OperationsEvents operations() {
        return operations;
    }

    Function<String, TargetPolicy> policies() {
        return policies;
    }

    /** Adds a listener (the metrics), told after the log and the operations webhook. */
    void alsoTell(TargetEventListener listener) {
        others.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void changed(TargetEvent event) {
        operations.changed(event);
        for (TargetEventListener listener : others) {
            listener.changed(event);
        }
    }
}
