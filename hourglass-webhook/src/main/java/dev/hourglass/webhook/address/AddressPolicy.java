package dev.hourglass.webhook.address;

import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressNetwork.IPAddressGenerator;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides whether a webhook may go to a host, given the addresses it resolved to: refused when any of them lies in
 * a {@link BlockedRanges blocked range}, unless the operator's {@link WebhookAllowlist} names the host or holds the
 * address. Any one bad address refuses the host, since the client may connect to any of them. Pure: resolving is
 * the caller's ({@link GuardedDnsResolver}).
 */
public final class AddressPolicy {
    private static final IPAddressGenerator ADDRESSES = new IPAddressGenerator();

    private final WebhookAllowlist allowlist;

    public AddressPolicy(WebhookAllowlist allowlist) {
        this.allowlist = Objects.requireNonNull(allowlist, "allowlist");
    }

    public WebhookAllowlist allowlist() {
        return allowlist;
    }

    /** The refusal for the first blocked address, or empty when every address may be reached. */
    public Optional<AddressRefusal> check(String host, List<InetAddress> addresses) {
        if (allowlist.permitsHost(host)) {
            return Optional.empty();
        }
        for (InetAddress address : addresses) {
            IPAddress ip = toIpAddress(address);
            if (allowlist.permits(ip) || BlockedRanges.embeddedIPv4(ip).map(allowlist::permits).orElse(false)) {
                continue;
            }
            Optional<BlockedRanges.Range> blocked = BlockedRanges.match(ip);
            if (blocked.isPresent()) {
                return Optional.of(new AddressRefusal(host, address, blocked.get().rule(),
                        blocked.get().block().toCanonicalString()));
            }
        }
        return Optional.empty();
    }

    /** The library's form of an address, without an IPv6 scope ({@code %eth0}), which does not move it. */
    static IPAddress toIpAddress(InetAddress address) {
        try {
            return ADDRESSES.from(InetAddress.getByAddress(address.getAddress()));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are always an address", e);
        }
    }
}
