package dev.hourglass.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Whose claims {@link StoreTx#rescueExpired} takes back: those of every node whose lease expired before {@code now}
 * ({@link #expiredLeases}), or, on an exclusive store at start, those of every node but the rescuer whatever their
 * leases ({@link #allOtherNodes}). The rescuer's own claims are never taken.
 *
 * @param rescuer the node that rescues
 * @param now the store's time: leases that ended before it have expired
 * @param allOtherNodes true to take every other node's claims, leases or not
 */
public record RescueParams(String rescuer, Instant now, boolean allOtherNodes) {
    public RescueParams {
        Objects.requireNonNull(rescuer, "rescuer");
        Objects.requireNonNull(now, "now");
    }

    /** The claims of every other node whose lease expired before {@code now}. */
    public static RescueParams expiredLeases(String rescuer, Instant now) {
        return new RescueParams(rescuer, now, false);
    }

    /** The claims of every other node, whatever their leases (an exclusive store, at start). */
    public static RescueParams allOtherNodes(String rescuer, Instant now) {
        return new RescueParams(rescuer, now, true);
    }
}
