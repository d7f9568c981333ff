package dev.hourglass.webhook.address;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * The webhook client's resolver: resolves as usual, then refuses (with {@link RefusedAddressException}) a host whose
 * addresses the {@link AddressPolicy} does not allow. Being the resolver, it sees exactly the addresses the client
 * is about to connect to, so a name that resolved to a public address when the job was scheduled and to
 * {@code 10.0.0.5} now (DNS rebinding, or a record that changed) is refused at delivery. IP literals pass through
 * the same path: the client hands {@code 127.0.0.1}, {@code ::ffff:127.0.0.1} or {@code 2130706433} to the resolver,
 * which parses it with {@link InetAddress} as the connection would, and the result is checked.
 *
 * <p>The API checks a URL at schedule time with {@link #check} (the same resolution and policy), so that most bad
 * targets are refused up front with a 400.
 */
public final class GuardedDnsResolver implements DnsResolver {
    private final DnsResolver delegate;
    private final AddressPolicy policy;

    public GuardedDnsResolver(DnsResolver delegate, AddressPolicy policy) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.policy = Objects.requireNonNull(policy, "policy");
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
     * resolve (yet) passes; delivery resolves it again and checks again.
     */
    public Optional<AddressRefusal> check(String host) {
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
