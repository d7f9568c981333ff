package dev.hourglass.core.engine;

import dev.hourglass.core.api.TenantShares;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedder's {@link TenantShares} as the dispatcher may call it: never throws, always in range. It is called
 * with the dispatch queue's lock held, where an exception would stop firing for every tenant; so a failing answer
 * is logged (a warning when it starts failing, at debug while it goes on, once when it answers again) and replaced
 * by the default of {@link TenantShares#EQUAL}.
 *
 * <p>Ranges: a weight is clamped to 1..{@link TenantShares#MAX_WEIGHT} (a larger one would let a backlogged tenant keep
 * its turn for so long that the others wait as if there were no fairness); a per-tenant limit below 1 is taken as 1
 * (0 would never start the tenant's jobs, which then wait claimed forever).
 */
final class GuardedShares {
    private static final Logger log = LoggerFactory.getLogger(GuardedShares.class);

    private final TenantShares shares;
    /** Whether the latest call failed: to warn once per failing spell, not once per call. */
    private final AtomicBoolean failing = new AtomicBoolean();

    GuardedShares(TenantShares shares) {
        this.shares = shares;
    }

    int weight(String tenant) {
        try {
            int w = shares.weight(tenant);
            answered();
            return Math.clamp(w, 1, TenantShares.MAX_WEIGHT);
        } catch (RuntimeException | LinkageError e) {
            failed("weight", tenant, e);
            return TenantShares.EQUAL.weight(tenant);
        }
    }

    int maxInFlight(String tenant) {
        try {
            int limit = shares.maxInFlight(tenant);
            answered();
            return Math.max(limit, 1);
        } catch (RuntimeException | LinkageError e) {
            failed("maxInFlight", tenant, e);
            return TenantShares.EQUAL.maxInFlight(tenant);
        }
    }

    private void answered() {
        if (failing.get() && failing.compareAndSet(true, false)) {
            log.info("tenant shares answer again");
        }
    }

    private void failed(String what, String tenant, Throwable e) {
        if (failing.compareAndSet(false, true)) {
            log.warn("tenant shares failed to answer {} of tenant '{}'; using the defaults (weight 1, no limit of "
                    + "its own) until it answers again", what, tenant, e);
        } else {
            log.debug("tenant shares failed to answer {} of tenant '{}': {}", what, tenant, e.toString());
        }
    }
}
