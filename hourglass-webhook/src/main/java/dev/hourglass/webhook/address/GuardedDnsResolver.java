package dev.hourglass.webhook.address;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook client's resolver: resolves as usual, then refuses (with {@link RefusedAddressException}) a host whose
 * addresses the {@link AddressPolicy} does not allow. Being the resolver, it sees exactly the addresses the client
 * is about to connect to, so a name that resolved to a public address when the job was scheduled and to
 * {@code 10.0.0.5} now (DNS rebinding, or a record that changed) is refused at delivery. IP literals pass through
 * the same path: the client hands {@code 127.0.0.1}, {@code ::ffff:127.0.0.1} or {@code 2130706433} to the resolver,
 * which parses it with {@link InetAddress} as the connection would, and the result is checked.
 *
 * <p>The API checks a URL at schedule time with {@link #check} (the same resolution and policy), so that most bad
 * targets are refused up front with a 400. That lookup runs on the request's path, so it is bounded: it waits at
 * most {@link #DEFAULT_LOOKUP_TIMEOUT} and at most {@link #DEFAULT_MAX_PENDING_LOOKUPS} lookups are pending at once
 * (a name server that never answers holds a lookup thread for the system resolver's own timeout, which this
 * class cannot cut short). A lookup that does not answer in time, or that finds the limit reached, lets the check pass,
 * exactly like a name that does not resolve: the schedule-time check is a convenience, and the guard that counts
 * is this resolver at delivery, before every connection.
 */
public final class GuardedDnsResolver implements DnsResolver {
    public static final Duration DEFAULT_LOOKUP_TIMEOUT = Duration.ofSeconds(2);
    public static final int DEFAULT_MAX_PENDING_LOOKUPS = 64;
    private static final Logger log = LoggerFactory.getLogger(GuardedDnsResolver.class);

    private final DnsResolver delegate;
    private final AddressPolicy policy;
    private final Duration lookupTimeout;
    /** One permit per schedule-time lookup still running, whether or not its caller still waits for it. */
    private final Semaphore pendingLookups;
    private final int maxPendingLookups;

    public GuardedDnsResolver(DnsResolver delegate, AddressPolicy policy) {
        this(delegate, policy, DEFAULT_LOOKUP_TIMEOUT, DEFAULT_MAX_PENDING_LOOKUPS);
    }

    /**
     * @param lookupTimeout the longest {@link #check} waits for a lookup
     * @param maxPendingLookups the most lookups of {@link #check} running at once; more pass unchecked
     */
    public GuardedDnsResolver(DnsResolver delegate, AddressPolicy policy, Duration lookupTimeout,
            int maxPendingLookups) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.lookupTimeout = Objects.requireNonNull(lookupTimeout, "lookupTimeout");
        if (lookupTimeout.isNegative() || lookupTimeout.isZero() || maxPendingLookups < 1) {
            throw new IllegalArgumentException("the lookup timeout and the pending lookups must be > 0");
        }
        this.maxPendingLookups = maxPendingLookups;
        this.pendingLookups = new Semaphore(maxPendingLookups);
    }

    /** The system resolver, guarded by this allowlist. */
    public static GuardedDnsResolver system(WebhookAllowlist allowlist) {
        return new GuardedDnsResolver(SystemDefaultDnsResolver.INSTANCE, new AddressPolicy(allowlist));
    }

    public WebhookAllowlist allowlist() {
        return policy.allowlist();
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] addresses = delegate.resolve(host);
        if (addresses != null) {
            Optional<AddressRefusal> refusal = policy.check(host, Arrays.asList(addresses));
            if (refusal.isPresent()) {
                throw new RefusedAddressException(refusal.get());
            }
        }
        return addresses;
    }

    /** Spelled out (the interface has a default) so that the check cannot be bypassed by a future default. */
    @Override
    public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
        InetAddress[] addresses = resolve(host);
        if (addresses == null) {
            throw new UnknownHostException(host);
        }
        return Arrays.stream(addresses).map(a -> new InetSocketAddress(a, port)).toList();
    }

    @Override
    public String resolveCanonicalHostname(String host) throws UnknownHostException {
        return delegate.resolveCanonicalHostname(host);
    }

    /**
     * The schedule-time check of a URL's host: the refusal if it resolves to a blocked address. A host that does not
     * resolve (yet), or not within the lookup timeout, or while too many lookups are pending, passes; delivery
     * resolves it again and checks again. Returns within about the lookup timeout, whatever the name servers do.
     */
    public Optional<AddressRefusal> check(String host) {
        if (isPlainLiteral(host)) {
            return checkNow(host); // no name server is asked
        }
        if (!pendingLookups.tryAcquire()) {
            log.debug("schedule-time address check of {} skipped: {} lookups pending", host, pendingCount());
            return Optional.empty();
        }
        CompletableFuture<Optional<AddressRefusal>> lookup = new CompletableFuture<>();
        try {
            Thread.ofVirtual().name("hourglass-address-check").start(() -> {
                try {
                    lookup.complete(checkNow(host));
                } catch (RuntimeException e) {
                    lookup.complete(Optional.empty());
                } finally {
                    pendingLookups.release();
                }
            });
        } catch (RuntimeException | OutOfMemoryError e) {
            pendingLookups.release();
            throw e;
        }
        try {
            return lookup.get(lookupTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.debug("schedule-time address check of {} skipped: no answer within {} ms", host,
                    lookupTimeout.toMillis());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException e) {
            return Optional.empty(); // not reached: the lookup completes normally
        }
    }

    /**
     * A dotted-quad IPv4 or a bracketed IPv6 address: the system resolver reads these without a lookup. Other forms
     * ({@code 2130706433}, {@code 0x7f.1}) may go to the name servers, so they take the bounded path.
     */
    private static boolean isPlainLiteral(String host) {
        if (host.startsWith("[")) {
            return true;
        }
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    private int pendingCount() {
        return maxPendingLookups - pendingLookups.availablePermits();
    }

    private Optional<AddressRefusal> checkNow(String host) {
        try {
            resolve(host);
            return Optional.empty();
        } catch (RefusedAddressException e) {
            return Optional.of(e.refusal());
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }
}
