package dev.hourglass.webhook.address;

import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import inet.ipaddr.ipv6.IPv6Address;
import java.util.List;
import java.util.Optional;

/**
 * The addresses a webhook may not reach unless the operator allowlists them: everything that is this machine, its
 * private networks, or a cloud's metadata service, where a scheduled URL could read or change what the internet
 * must not (server-side request forgery). Each range names the rule it breaks, for the error message.
 *
 * <p>IPv6 addresses that carry an IPv4 address (IPv4-mapped {@code ::ffff:a.b.c.d}, IPv4-compatible
 * {@code ::a.b.c.d}, NAT64 {@code 64:ff9b::a.b.c.d}) are judged by that IPv4 address too, so
 * {@code [::ffff:127.0.0.1]} is loopback. (The JDK already turns a mapped address into the IPv4 one; the others it
 * keeps as IPv6, and the IPv4 part may be where the packets end up.)
 */
final class BlockedRanges {
    /** A blocked range and the rule it stands for, e.g. {@code 127.0.0.0/8}, "loopback". */
    record Range(IPAddress block, String rule) {
        boolean contains(IPAddress address) {
            return block.contains(address);
        }
    }

    /** Most specific first: the metadata addresses sit inside link-local and private ranges. */
    private static final List<Range> RANGES = List.of(
            range("169.254.169.254/32", "cloud metadata"),
            range("fd00:ec2::254/128", "cloud metadata"),
            range("0.0.0.0/8", "unspecified"),
            range("::/128", "unspecified"),
            range("127.0.0.0/8", "loopback"),
            range("::1/128", "loopback"),
            range("10.0.0.0/8", "private"),
            range("172.16.0.0/12", "private"),
            range("192.168.0.0/16", "private"),
            range("fc00::/7", "private"),
            range("fec0::/10", "private"), // deprecated site-local, still routed inside some networks
            range("100.64.0.0/10", "CGNAT"),
            range("169.254.0.0/16", "link-local"),
            range("fe80::/10", "link-local"),
            range("224.0.0.0/4", "multicast"),
            range("ff00::/8", "multicast"),
            range("240.0.0.0/4", "reserved")); // includes the broadcast address 255.255.255.255

    private BlockedRanges() {}

    /** The first blocked range that holds the address, or the IPv4 address it carries; empty when it may be used. */
    static Optional<Range> match(IPAddress address) {
        Optional<Range> direct = first(address);
        if (direct.isPresent()) {
            return direct;
        }
        return embeddedIPv4(address).flatMap(BlockedRanges::first);
    }

    /** The IPv4 address inside a mapped, compatible or NAT64 IPv6 address. */
    static Optional<IPAddress> embeddedIPv4(IPAddress address) {
        if (address instanceof IPv6Address v6
                && (v6.isIPv4Mapped() || v6.isIPv4Compatible() || v6.isWellKnownIPv4Translatable())) {
            return Optional.of(v6.getEmbeddedIPv4Address()); // the low 32 bits in all three forms
        }
        return Optional.empty();
    }

    private static Optional<Range> first(IPAddress address) {
        return RANGES.stream().filter(r -> r.contains(address)).findFirst();
    }

    private static Range range(String cidr, String rule) {
        return new Range(new IPAddressString(cidr).getAddress().toPrefixBlock(), rule);
    }
}
