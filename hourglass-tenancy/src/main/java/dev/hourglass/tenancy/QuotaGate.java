package dev.hourglass.tenancy;

import dev.hourglass.core.supervision.Supervision;
import dev.hourglass.core.time.Ticker;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a schedule against its tenant's quotas without a database round trip, in this order: payload size, delay
 * horizon, pending jobs, schedule rate. The rate is checked last, so a request refused for another reason does not
 * spend a token.
 *
 * <p>Rate: one token bucket per tenant (Bucket4j), refilled greedily at {@code schedulesPerSecond} up to
 * {@code scheduleBurst}, on the monotonic clock. A quota change replaces the bucket (starting full), so it applies
 * at once. Per node: a cluster of N nodes admits up to N times the rate.
 *
 * <p>Pending jobs: an estimate kept in memory, {@code counted + accepted}: the store's count (SCHEDULED or RUNNING)
 * taken in the background every {@code recountEvery}, plus the schedules this node accepted since that count began.
 * Jobs that fire are subtracted only by the next count, so between counts the estimate is high, never low, except
 * for the schedules other nodes of a cluster accepted since the last count. Concurrent callers of one tenant may
 * overshoot the limit by the number of requests in flight.
 */
public final class QuotaGate implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QuotaGate.class);
    public static final Duration DEFAULT_RECOUNT = Duration.ofSeconds(5);

    /** A tenant's bucket, and the quotas it was built for (a change of rate or burst builds a new one). */
    private record RateLimit(long perSecond, long burst, Bucket bucket) {}

    private final TenantStore store;
    private final TimeMeter meter;
    private final Duration recountEvery;
    private final Map<String, RateLimit> buckets = new ConcurrentHashMap<>();
    /** The last completed count per tenant. Replaced whole by the recount thread. */
    private volatile Map<String, Long> counted = Map.of();
    /** Schedules accepted since the current count began; replaced (not cleared) when a count begins. */
    private volatile Map<String, AtomicLong> accepted = new ConcurrentHashMap<>();
    private final ScheduledExecutorService recounter;
    private volatile boolean recountFailing;
    /** Hears of every refusal (the quota-rejection counter); set before the gate is used. */
    private volatile BiConsumer<String, QuotaRefusal> refusals = (tenant, refusal) -> {};

    /** @param ticker the monotonic clock the buckets refill on */
    public QuotaGate(TenantStore store, Ticker ticker, Duration recountEvery) {
        this.store = store;
        this.meter = new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                return ticker.nanoTime();
            }

            @Override
            public boolean isWallClockBased() {
                return false;
            }
        };
        this.recountEvery = recountEvery;
        this.recounter = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("hourglass-quota-recount").daemon(true).factory());
    }

    /**
     * Tells {@code listener} the tenant and the refusal of every schedule or reschedule this gate refuses (metrics).
     * Called on the request's thread: it must be quick and must not throw.
     */
    public QuotaGate onRefusal(BiConsumer<String, QuotaRefusal> listener) {
        this.refusals = Objects.requireNonNull(listener, "listener");
        return this;
    }

    /** Counts pending jobs now, then every {@code recountEvery} in the background. */
    public QuotaGate start() {
        recount();
        long every = recountEvery.toMillis();
        recounter.scheduleWithFixedDelay(Supervision.reportingErrors("quota recount", this::recountQuietly), every,
                every, TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * Checks one schedule of {@code tenant}; when it is admitted, takes a token from the tenant's bucket.
     *
     * @param payloadBytes the job's payload size
     * @param delay how far in the future the job is due (zero or negative: due now)
     * @return null when admitted, else why not
     */
    public QuotaRefusal admit(Tenant tenant, int payloadBytes, Duration delay) {
        return reported(tenant, check(tenant, payloadBytes, delay));
    }

    private QuotaRefusal check(Tenant tenant, int payloadBytes, Duration delay) {
        Quotas q = tenant.quotas();
        if (payloadBytes > q.maxPayloadBytes()) {
            return new QuotaRefusal("maxPayloadBytes", q.maxPayloadBytes(), 1, "the payload is " + payloadBytes
                    + " bytes, more than tenant '" + tenant.name() + "' may send (maxPayloadBytes "
                    + q.maxPayloadBytes() + "); a retry of this request will be refused again");
        }
        QuotaRefusal tooFar = beyondHorizon(tenant, delay);
        if (tooFar != null) {
            return tooFar;
        }
        long pending = pending(tenant.name());
        if (pending >= q.maxPendingJobs()) {
            return new QuotaRefusal("maxPendingJobs", q.maxPendingJobs(), Math.max(1, recountEvery.toSeconds()),
                    "tenant '" + tenant.name() + "' has " + pending + " jobs pending (maxPendingJobs "
                            + q.maxPendingJobs() + "); retry when some have run or been cancelled");
        }
        return overRate(tenant);
    }

    /**
     * Checks one reschedule of {@code tenant}: the quotas that limit where a job may be due and how fast a tenant
     * writes apply as to a schedule (the delay horizon, then the rate, which takes a token when admitted). The
     * payload and the count of pending jobs do not change with a reschedule, so their quotas do not apply.
     *
     * @param delay how far in the future the job is to be due (zero or negative: due now)
     * @return null when admitted, else why not
     */
    public QuotaRefusal admitReschedule(Tenant tenant, Duration delay) {
        QuotaRefusal tooFar = beyondHorizon(tenant, delay);
        return reported(tenant, tooFar != null ? tooFar : overRate(tenant));
    }

    private QuotaRefusal reported(Tenant tenant, QuotaRefusal refusal) {
        if (refusal != null) {
            refusals.accept(tenant.name(), refusal);
        }
        return refusal;
    }

    private static QuotaRefusal beyondHorizon(Tenant tenant, Duration delay) {
        Quotas q = tenant.quotas();
        if (delay.compareTo(q.maxDelay()) <= 0) {
            return null;
        }
        return new QuotaRefusal("maxDelay", q.maxDelay().toSeconds(), 1, "the job would be due "
                + delay.toSeconds() + " s from now, further than tenant '" + tenant.name()
                + "' may schedule (maxDelay " + q.maxDelay().toSeconds() + " s); a retry of this request will "
                + "be refused again");
    }

    /** Takes a token from the tenant's bucket, or says how long until one is there. */
    private QuotaRefusal overRate(Tenant tenant) {
        Quotas q = tenant.quotas();
        ConsumptionProbe probe = bucketFor(tenant.name(), q).tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return null;
        }
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(probe.getNanosToWaitForRefill() + 999_999_999L));
        return new QuotaRefusal("schedulesPerSecond", q.schedulesPerSecond(), seconds, "tenant '"
                + tenant.name() + "' schedules faster than its rate (schedulesPerSecond "
                + q.schedulesPerSecond() + ", burst " + q.scheduleBurst() + ")");
    }

    /** Records a schedule that was stored (a new job, not a repeat of an idempotent one). */
    public void accepted(String tenant) {
        accepted.computeIfAbsent(tenant, t -> new AtomicLong()).incrementAndGet();
    }

    /** The estimate of the tenant's SCHEDULED and RUNNING jobs (see the class comment). */
    public long pending(String tenant) {
        AtomicLong since = accepted.get(tenant);
        return counted.getOrDefault(tenant, 0L) + (since == null ? 0 : since.get());
    }

    private Bucket bucketFor(String tenant, Quotas q) {
        RateLimit current = buckets.get(tenant);
        if (current == null || current.perSecond() != q.schedulesPerSecond() || current.burst() != q.scheduleBurst()) {
            RateLimit fresh = new RateLimit(q.schedulesPerSecond(), q.scheduleBurst(), Bucket.builder()
                    .addLimit(limit -> limit.capacity(q.scheduleBurst())
                            .refillGreedy(q.schedulesPerSecond(), Duration.ofSeconds(1)))
                    .withCustomTimePrecision(meter)
                    .build());
            // Two callers may both build one: the map keeps one of them, and both use the one it keeps.
            current = buckets.merge(tenant, fresh, (old, neu) -> old.perSecond() == neu.perSecond()
                    && old.burst() == neu.burst() ? old : neu);
        }
        return current.bucket();
    }

    /**
     * Counts every tenant's pending jobs in the store. Schedules accepted while the count runs go to a fresh
     * counter, added on top of the new count: a job may be in both (counted high), never in neither.
     */
    void recount() {
        Map<String, AtomicLong> previous = accepted;
        accepted = new ConcurrentHashMap<>();
        try {
            counted = Map.copyOf(store.pendingJobs());
        } catch (RuntimeException e) {
            // Keep what the failed count would have replaced: fold the older counter back in.
            previous.forEach((t, n) -> accepted.computeIfAbsent(t, x -> new AtomicLong()).addAndGet(n.get()));
            throw e;
        }
    }

    private void recountQuietly() {
        try {
            recount();
            recountFailing = false;
        } catch (RuntimeException e) {
            if (!recountFailing) {
                recountFailing = true;
                log.warn("cannot count pending jobs per tenant ({}); quotas use the last count until the store "
                        + "answers", e.toString());
            }
        }
    }

    @Override
    public void close() {
        recounter.shutdownNow();
    }
}
