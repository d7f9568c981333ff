package dev.hourglass.core.monitor;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The state of one source in an {@link ErrorRateMonitor}: a ring of bucket counts, the decayed sums of the moving
 * average and a few last-seen fields. Fixed size once built. Not thread-safe: the monitor's lock guards it.
 *
 * <p>Invariants:
 * <ul>
 *   <li>slot {@code i} holds the bucket that starts at {@code starts[i]} ({@link #EMPTY} if none yet), and only a
 *       bucket whose index (start / width) is congruent to {@code i} modulo the ring size;</li>
 *   <li>a slot is only ever taken over by a <i>newer</i> bucket, and is zeroed when it is; so counts of two buckets
 *       are never mixed, and a bucket older than the one a slot holds is refused rather than written over it;</li>
 *   <li>{@code 0 <= errors[i] <= totals[i]}, and {@code 0 <= decayedErrors <= decayedTotal} (up to rounding).</li>
 * </ul>
 * All times are epoch milliseconds.
 */
final class SourceWindow {
    static final long EMPTY = Long.MIN_VALUE;

    private final long width;
    private final double tauMillis;
    private final long[] starts;
    private final long[] totals;
    private final long[] errors;

    /** Sums of {@code e^(-(ref - t)/τ)} over the events at {@code t}, all and errors only; ref = {@link #ref}. */
    private double decayedTotal;
    private double decayedErrors;
    private long ref = EMPTY;

    private int consecutiveFailures;
    private String lastError;
    private long lastErrorAt = EMPTY;
    private long lastSeen = EMPTY;

    SourceWindow(MonitorConfig config) {
        this.width = config.bucket().toMillis();
        Duration tau = config.averageTimeConstant();
        this.tauMillis = tau.getSeconds() * 1e3 + tau.getNano() / 1e6; // toNanos() would overflow past 292 years
        int n = config.bucketCount();
        this.starts = new long[n];
        this.totals = new long[n];
        this.errors = new long[n];
        Arrays.fill(starts, EMPTY);
    }

    private int slotOf(long bucketStart) {
        return (int) Math.floorMod(Math.floorDiv(bucketStart, width), (long) starts.length);
    }

    /**
     * False if the bucket of {@code bucketStart} cannot be counted because its slot holds a newer bucket (which only
     * happens when the monitor's clock stepped back).
     */
    boolean accepts(long bucketStart) {
        return starts[slotOf(bucketStart)] <= bucketStart;
    }

    /** Counts an event at {@code t} (within the window; {@link #accepts} was true for its bucket). */
    void add(long t, long bucketStart, boolean error, String message) {
        int i = slotOf(bucketStart);
        if (starts[i] != bucketStart) {
            // A stale slot: the bucket it held has left the window. Reset before reuse.
            starts[i] = bucketStart;
            totals[i] = 0;
            errors[i] = 0;
        }
        totals[i]++;
        if (error) {
            errors[i]++;
        }

        double weight;
        if (ref == EMPTY || t >= ref) {
            double decay = ref == EMPTY ? 0.0 : Math.exp(-(t - ref) / tauMillis);
            decayedTotal *= decay;
            decayedErrors *= decay;
            ref = t;
            weight = 1.0;
        } else {
            weight = Math.exp(-(ref - t) / tauMillis); // out of order: its weight as seen from ref
        }
        decayedTotal += weight;
        if (error) {
            decayedErrors += weight;
        }

        if (error) {
            if (consecutiveFailures < Integer.MAX_VALUE) {
                consecutiveFailures++;
            }
            if (t >= lastErrorAt) {
                lastErrorAt = t;
                lastError = truncate(message);
            }
        } else {
            consecutiveFailures = 0;
        }
        lastSeen = Math.max(lastSeen, t);
    }

    /** Cuts to at most {@value ErrorRateMonitor#MAX_MESSAGE_CHARS} chars, never through a surrogate pair. */
    static String truncate(String message) {
        int max = ErrorRateMonitor.MAX_MESSAGE_CHARS;
        if (message == null || message.length() <= max) {
            return message;
        }
        int end = Character.isHighSurrogate(message.charAt(max - 1)) ? max - 1 : max;
        return message.substring(0, end);
    }

    SourceStats stats(String source, long from, long to) {
        long total = 0;
        long errs = 0;
        for (int i = 0; i < starts.length; i++) {
            if (inWindow(i, from, to)) {
                total += totals[i];
                errs += errors[i];
            }
        }
        double rate = total == 0 ? 0.0 : (double) errs / total;
        double average = decayedTotal > 0 ? decayedErrors / decayedTotal : 0.0;
        return new SourceStats(
                source,
                total,
                errs,
                rate,
                average,
                consecutiveFailures,
                lastError,
                lastErrorAt == EMPTY ? null : Instant.ofEpochMilli(lastErrorAt),
                lastSeen == EMPTY ? null : Instant.ofEpochMilli(lastSeen));
    }

    List<BucketCount> buckets(long from, long to) {
        List<BucketCount> list = new ArrayList<>();
        for (int i = 0; i < starts.length; i++) {
            if (inWindow(i, from, to)) {
                list.add(new BucketCount(Instant.ofEpochMilli(starts[i]), totals[i], errors[i]));
            }
        }
        list.sort(Comparator.comparing(BucketCount::start));
        return list;
    }

    /** Slot {@code i} holds a bucket whose start is in [from, to]; a slot ahead of {@code to} (clock stepped back) is not. */
    private boolean inWindow(int i, long from, long to) {
        return starts[i] != EMPTY && starts[i] >= from && starts[i] <= to;
    }
}
