package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/** What {@link StoreTx#heartbeat} records: {@code node} is alive until {@code leaseUntil}, as of {@code now}. */
public record HeartbeatParams(String node, Instant leaseUntil, Instant now) {
    public HeartbeatParams {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(leaseUntil, "leaseUntil");
        Objects.requireNonNull(now, "now");
    }
}
