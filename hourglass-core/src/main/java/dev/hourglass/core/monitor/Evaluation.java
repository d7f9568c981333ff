package dev.hourglass.core.monitor;

/**
 * What one alarm evaluation looks at: the attempts and errors in the window, and the errors in a row. Built from one
 * node's {@link SourceStats#evaluation()}, or from a cluster's merged buckets with {@link #of(WindowTotals, int)}.
 *
 * @param total attempts in the window, ≥ 0
 * @param errors errors among them; 0 ≤ errors ≤ total
 * @param consecutiveFailures errors in a row up to now, ≥ 0
 */
public record Evaluation(long total, long errors, int consecutiveFailures) {
    public Evaluation {
        if (total < 0 || errors < 0 || errors > total) {
            throw new IllegalArgumentException("need 0 <= errors <= total, was errors=" + errors + " total=" + total);
        }
        if (consecutiveFailures < 0) {
            throw new IllegalArgumentException("consecutiveFailures must be >= 0, was " + consecutiveFailures);
        }
    }

    public static Evaluation of(WindowTotals totals, int consecutiveFailures) {
        return new Evaluation(totals.total(), totals.errors(), consecutiveFailures);
    }

    /** errors / total; 0 when there were no attempts. */
    public double errorRate() {
        return total == 0 ? 0.0 : (double) errors / total;
    }
}
