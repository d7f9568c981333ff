package dev.hourglass.core.store;

/**
 * How the near-term work of a store shared by several nodes is spread, as one transaction saw it
 * ({@link StoreTx#claimShare}): the engine sizes each node's claims to its share with it. The claims are those the
 * nodes last recorded (each once a horizon round), so the figures lag by up to a round.
 *
 * @param liveNodes nodes whose lease had not run out (the asking node among them once it renewed its lease)
 * @param claimed SCHEDULED claims the live nodes recorded holding
 * @param unowned unowned SCHEDULED jobs due within the horizon asked about
 */
public record ClaimShare(int liveNodes, long claimed, long unowned) {
    public ClaimShare {
        if (liveNodes < 0 || claimed < 0 || unowned < 0) {
            throw new IllegalArgumentException("negative claim share: " + liveNodes + " nodes, " + claimed
                    + " claimed, " + unowned + " unowned");
        }
    }

    /**
     * The near-term jobs one live node should hold: all of them (claimed and unowned) over the live nodes, rounded
     * up; all of them when one node or none (the asking node's lease not yet renewed) is live.
     */
    public long fairShare() {
        long all = claimed + unowned;
        return liveNodes <= 1 ? all : (all + liveNodes - 1) / liveNodes;
    }
}
