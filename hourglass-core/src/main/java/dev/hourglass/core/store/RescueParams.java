package dev.hourglass.core.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Whose claims {@link StoreTx#rescueExpired} takes back: those of every node whose lease expired before {@code now}
 * or that died ({@link #expiredLeases}), or, on an exclusive store at start, those of every node but the rescuer
 * whatever their leases ({@link #allOtherNodes}). The rescuer's own claims are never taken.
 *
 * @param rescuer the node that rescues
 * @param now the store's time: leases that ended before it have expired
 * @param allOtherNodes true to take every other node's claims, leases or not
 * @param presenceGrace how long before {@code now} a node whose presence mark is gone ({@link NodePresence}) must
 *     have renewed its lease last to count as dead. Why: a node that lives, whose connections were all cut at once
 *     (a proxy restarting), loses its mark too; it renews its lease within a load interval of getting a connection
 *     back, and that renewal records that it holds no mark, so no rescue can take it for dead. A grace of two load
 *     intervals leaves it that time. Zero: the mark alone decides.
 */
public record RescueParams(String rescuer, Instant now, boolean allOtherNodes, Duration presenceGrace) {
    public RescueParams {
        Objects.requireNonNull(rescuer, "rescuer");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(presenceGrace, "presenceGrace");
        if (presenceGrace.isNegative()) {
            throw new IllegalArgumentException("presenceGrace must be >= 0, was " + presenceGrace);
        }
    }

    /** Every other node, or those whose lease expired before {@code now} or that died, without a grace. */
    public RescueParams(String rescuer, Instant now, boolean allOtherNodes) {
        this(rescuer, now, allOtherNodes, Duration.ZERO);
    }

    /** The claims of every other node whose lease expired before {@code now}, or that died. */
    public static RescueParams expiredLeases(String rescuer, Instant now) {
        return new RescueParams(rescuer, now, false);
    }

    /**
     * The claims of every other node whose lease expired before {@code now}, or that died and had not renewed its
     * lease for {@code presenceGrace}.
     */
    public static RescueParams expiredLeases(String rescuer, Instant now, Duration presenceGrace) {
        return new RescueParams(rescuer, now, false, presenceGrace);
    }

    /** The claims of every other node, whatever their leases (an exclusive store, at start). */
    public static RescueParams allOtherNodes(String rescuer, Instant now) {
        return new RescueParams(rescuer, now, true);
    }

    /** A node whose mark is gone counts as dead only if it last renewed its lease before this. */
    public Instant silentSince() {
        return now.minus(presenceGrace);
    }
}
