package dev.hourglass.core.targets;

/**
 * Hears every change of a target's state (an alarm raised or cleared, a pause, a resume), once per change over the
 * cluster. Called on the monitor's thread after the change is stored; must not block for long. What it throws is
 * logged and ignored.
 */
@FunctionalInterface
public interface TargetEventListener {
    void changed(TargetEvent event);
}
