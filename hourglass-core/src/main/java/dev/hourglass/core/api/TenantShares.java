package dev.hourglass.core.api;

/**
 * How a node shares its delivery capacity between tenants when more jobs are due than it can run at once: a tenant
 * with weight 3 gets three attempts started for every one of a tenant with weight 1, as long as both have due jobs
 * waiting, and never more than its {@link #maxInFlight} attempts at once on this node (so that a slow or failing
 * target holds only its own tenant's slots). The engine's own {@code maxInFlight} bounds all tenants together.
 *
 * <p>Consulted live, not once: the engine asks again when a tenant's due jobs start waiting and at each of the
 * tenant's turns, so a change (the server's tenant cache after an update) takes effect at its next turn, without a
 * restart; a tenant held at its limit sees a raised one when one of its attempts ends, or at once if nothing else
 * can start. Called on the engine's timer and dispatcher threads while they hold the dispatch queue's lock: answers
 * must be cheap (an in-memory lookup, never a store read). An exception or an out-of-range answer is logged and the
 * default is used instead; it never stops firing.
 */
public interface TenantShares {

    /** The largest weight a tenant may have; larger answers of {@link #weight} count as this. */
    int MAX_WEIGHT = 1000;

    /** The answer of {@link #maxInFlight} that sets no limit of the tenant's own (only the engine's). */
    int NO_LIMIT = Integer.MAX_VALUE;

    /** Every tenant weighs 1 and has no limit of its own: equal shares. */
    TenantShares EQUAL = new TenantShares() {
        @Override
        public int weight(String tenant) {
            return 1;
        }

        @Override
        public int maxInFlight(String tenant) {
            return NO_LIMIT;
        }

        @Override
        public String toString() {
            return "TenantShares.EQUAL";
        }
    };

    /** The tenant's share, 1..{@link #MAX_WEIGHT} (values outside are taken as the nearest bound). */
    int weight(String tenant);

    /** The most attempts of the tenant's jobs running at once on this node, at least 1; {@link #NO_LIMIT} for none. */
    int maxInFlight(String tenant);
}
