package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * How many SCHEDULED jobs of one tenant are due in one window, counted by {@link JobStore#countPending}.
 *
 * @param oldestDueAt the earliest due time among them
 */
public record PendingCount(String tenant, DueWindow window, long count, Instant oldestDueAt) {

    public PendingCount {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(oldestDueAt, "oldestDueAt");
    }
}
