package dev.hourglass.core.targets;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * A change of a target's state, told once per change over the whole cluster: the node whose compare-and-set wrote
 * the change tells it ({@link TargetEventListener}).
 *
 * @param status the target as it is after the change
 * @param by who made it: a node (the monitor) or an operator (a pause or resume by hand)
 */
public record TargetEvent(Type type, Instant at, TargetStatus status, String by) {

    /** The kinds of change, named as the operations webhook names them ({@link #eventName()}). */
    public enum Type {
        ALARM_RAISED("target.alarm.raised"),
        ALARM_CLEARED("target.alarm.cleared"),
        PAUSED("target.paused"),
        RESUMED("target.resumed");

        private final String eventName;

        Type(String eventName) {
            this.eventName = eventName;
        }

        public String eventName() {
            return eventName;
        }

        /** As a metric label: {@code alarm_raised}, ... */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public TargetEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(by, "by");
    }

    public TargetKey key() {
        return status.key();
    }
}
