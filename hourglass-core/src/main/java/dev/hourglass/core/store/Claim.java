package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import java.time.Instant;
import java.util.Objects;

/**
 * A SCHEDULED job claimed by a node, with only what the node's timer needs to fire it: no payload (up to 256 KiB a
 * job) and nothing else a start does not present. See {@link JobStore#claimsOf}.
 *
 * @param fencingToken the token of the claim, which the start compare-and-set must present
 */
public record Claim(JobId id, String tenant, Instant dueAt, long fencingToken) {
    public Claim {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(dueAt, "dueAt");
    }
}
