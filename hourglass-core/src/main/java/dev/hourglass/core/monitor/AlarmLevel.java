package dev.hourglass.core.monitor;

/** Whether a source's alarm is up. */
public enum AlarmLevel {
    HEALTHY,
    ALARMING
}
