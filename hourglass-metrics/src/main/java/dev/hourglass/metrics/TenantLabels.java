package dev.hourglass.metrics;

import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * The {@code tenant} label of the meters, bounded: at most {@code limit} tenants have a label of their own, every
 * other tenant is {@value #OTHER}. Ten thousand tenants therefore cannot make ten thousand series per meter.
 *
 * <p>Which tenants: the first {@code limit} seen get their own label at once (so a deployment with fewer tenants
 * than the limit sees every tenant exactly, from the first event). Every {@link #rebalance()} (the binding calls it
 * once a minute) the labels go to the {@code limit} tenants with the most events since the previous rebalance; a
 * tenant that loses its label continues under {@value #OTHER}, one that gains one starts a series of its own. Sums
 * over the label ({@code sum by (...)}) stay right through a change; only a single tenant's series starts or stops.
 *
 * <p>Volumes are counted for at most {@code 16 * limit} tenants between rebalances: a tenant beyond that is not
 * counted until the next round, which bounds the memory whatever the number of tenants.
 */
public final class TenantLabels {
    /** The label of every tenant without one of its own. */
    public static final String OTHER = "other";

    private final int limit;
    private final int tracked;
    /** Tenants with a label of their own; replaced whole by {@link #rebalance}, grown under {@code this}. */
    private volatile Set<String> labelled = Set.of();
    /** Events per tenant since the last rebalance. */
    private final Map<String, LongAdder> volume = new ConcurrentHashMap<>();

    /** @param limit how many tenants may have a label of their own; 0 puts every tenant under {@value #OTHER} */
    public TenantLabels(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        this.limit = limit;
        this.tracked = Math.max(16, 16 * limit);
    }

    /** The label for an event of {@code tenant}; counts the event toward the tenant's volume. */
    public String of(String tenant) {
        count(tenant, 1);
        return labelOf(tenant);
    }

    /** The label for {@code count} things of {@code tenant} counted at once (a sample of pending jobs). */
    public String of(String tenant, long count) {
        count(tenant, count);
        return labelOf(tenant);
    }

    private void count(String tenant, long n) {
        LongAdder adder = volume.get(tenant);
        if (adder == null) {
            if (volume.size() >= tracked) {
                return;
            }
            adder = volume.computeIfAbsent(tenant, t -> new LongAdder());
        }
        adder.add(n);
    }

    private String labelOf(String tenant) {
        Set<String> now = labelled;
        if (now.contains(tenant)) {
            return tenant;
        }
        if (now.size() >= limit) {
            return OTHER;
        }
        synchronized (this) {
            if (labelled.size() < limit && !labelled.contains(tenant)) {
                labelled = Set.copyOf(union(labelled, tenant));
            }
            return labelled.contains(tenant) ? tenant : OTHER;
        }
    }

    private static Set<String> union(Set<String> set, String element) {
        Set<String> copy = new java.util.HashSet<>(set);
        copy.add(element);
        return copy;
    }

    /** Gives the labels to the busiest tenants since the last call, and starts counting afresh. */
    public synchronized void rebalance() {
        if (volume.isEmpty()) {
            return;
        }
        Set<String> busiest = volume.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, LongAdder> e) -> e.getValue().sum()).reversed()
                        .thenComparing(Map.Entry::getKey))
                .limit(limit)
                .map(Map.Entry::getKey)
                .collect(Collectors.toSet());
        // Keep the quiet labelled tenants while there is room: a label should not flap for want of events.
        for (String kept : labelled) {
            if (busiest.size() >= limit) {
                break;
            }
            busiest.add(kept);
        }
        labelled = Set.copyOf(busiest);
        volume.clear();
    }

    /** The tenants with a label of their own now. */
    public Set<String> labelled() {
        return labelled;
    }
}
