package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/** What {@link StoreTx#release} hands back: every claim of {@code node}, as of {@code now}. */
public record ReleaseParams(String node, Instant now) {
    public ReleaseParams {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(now, "now");
    }
}
