package dev.hourglass.core.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * When a pending job is due, seen from now: the windows of the pending-jobs gauge. Each window ends where the next
 * begins; a job due exactly at an edge belongs to the earlier window ({@code dueAt <= edge}).
 */
public enum DueWindow {
    /** Due at or before now and not started yet. */
    OVERDUE(Duration.ZERO),
    LT_1M(Duration.ofMinutes(1)),
    LT_1H(Duration.ofHours(1)),
    LT_1D(Duration.ofDays(1)),
    /** A day or more from now: no upper edge. */
    GE_1D(null);

    private final Duration until;

    DueWindow(Duration until) {
        this.until = until;
    }

    /** The window's upper edge (inclusive) seen from {@code now}; null for the last window. */
    public Instant edge(Instant now) {
        return until == null ? null : now.plus(until);
    }

    /** The window of a job due at {@code dueAt}, seen from {@code now}. */
    public static DueWindow of(Instant dueAt, Instant now) {
        for (DueWindow window : values()) {
            Instant edge = window.edge(now);
            if (edge == null || !dueAt.isAfter(edge)) {
                return window;
            }
        }
        throw new AssertionError("the last window has no edge");
    }

    /** As a metric label: {@code overdue}, {@code lt_1m}, ... */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
