package dev.hourglass.webhook.address;

import inet.ipaddr.AddressStringParameters.RangeParameters;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import inet.ipaddr.IPAddressStringParameters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the operator lets webhooks reach although it is loopback, private, link-local or otherwise blocked
 * ({@code --webhook-allowlist} / {@code HOURGLASS_WEBHOOK_ALLOWLIST}): CIDR ranges ({@code 10.1.0.0/16},
 * {@code fd12::/64}), single addresses ({@code 127.0.0.1}, {@code ::1}) and host names ({@code localhost},
 * {@code hooks.internal}). A host name is trusted as a name: whatever it resolves to is allowed. Names match
 * exactly (case-insensitively, without a trailing dot); there are no wildcards.
 *
 * <p>Ranges are parsed and matched by the {@code inet.ipaddr} library (IPv4 and IPv6 alike), in its strict
 * form: no {@code inet_aton} shorthands ({@code 127.1}, {@code 0x7f.1}), no wildcards or masks, and no host bits
 * after the prefix ({@code 10.0.0.1/8} is refused: did you mean {@code 10.0.0.0/8}?), so an entry means exactly
 * what it reads.
 *
 * @param ranges the allowed address blocks
 * @param hosts the allowed host names, lower case
 */
public record WebhookAllowlist(List<IPAddress> ranges, Set<String> hosts) {
    private static final IPAddressStringParameters STRICT = new IPAddressStringParameters.Builder()
            .allowEmpty(false).allowAll(false).allowSingleSegment(false).allowMask(false).allowPrefixOnly(false)
            .allowWildcardedSeparator(false).setRangeOptions(RangeParameters.NO_RANGE).allow_inet_aton(false)
            .toParams();
    /**
     * RFC 1123 host names whose last label starts with a letter (as every top-level domain does), so that numeric
     * shorthands such as {@code 2130706433}, {@code 0x7f.1} or {@code 127.1} are never taken for names.
     */
    private static final Pattern HOST_NAME = Pattern.compile(
            "(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\\.)*[a-z]([a-z0-9-]{0,61}[a-z0-9])?");

    public WebhookAllowlist {
        ranges = List.copyOf(ranges);
        hosts = Collections.unmodifiableSet(new LinkedHashSet<>(hosts));
    }

    /** Nothing allowlisted: every blocked range is refused. */
    public static WebhookAllowlist none() {
        return new WebhookAllowlist(List.of(), Set.of());
    }

    /**
     * Reads a comma-separated list; blanks around entries and empty entries are ignored.
     *
     * @throws IllegalArgumentException naming the entry that is neither a CIDR range, an address nor a host name
     */
    public static WebhookAllowlist parse(String text) {
        List<IPAddress> ranges = new ArrayList<>();
        Set<String> hosts = new LinkedHashSet<>();
        if (text == null) {
            return none();
        }
        for (String raw : text.split(",")) {
            String entry = raw.strip();
            if (entry.isEmpty()) {
                continue;
            }
            IPAddressString ip = new IPAddressString(unbracketed(entry), STRICT);
            if (ip.isValid()) {
                IPAddress address = ip.getAddress();
                if (address.getNetworkPrefixLength() != null && !address.isPrefixBlock()) {
                    throw new IllegalArgumentException("webhook allowlist entry '" + entry + "' has bits set after "
                            + "the prefix; did you mean " + address.toPrefixBlock().toCanonicalString() + "?");
                }
                ranges.add(address.toPrefixBlock());
            } else if (HOST_NAME.matcher(normalizeHost(entry)).matches()) {
                hosts.add(normalizeHost(entry));
            } else {
                throw new IllegalArgumentException("webhook allowlist entry '" + entry + "' is neither a CIDR range "
                        + "(10.0.0.0/8, fd00::/8), an IP address (127.0.0.1, ::1) nor a host name (localhost)");
            }
        }
        return new WebhookAllowlist(ranges, hosts);
    }

    public boolean isEmpty() {
        return ranges.isEmpty() && hosts.isEmpty();
    }

    /** True when the host name (as written in a URL) is allowlisted by name. */
    public boolean permitsHost(String host) {
        return !hosts.isEmpty() && hosts.contains(normalizeHost(host));
    }

    /** True when an allowlisted range holds the address. */
    public boolean permits(IPAddress address) {
        for (IPAddress range : ranges) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** Lower case, without {@code [ ]} around an IPv6 literal and without a trailing dot. */
    static String normalizeHost(String host) {
        String h = unbracketed(host).toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The entries as given (canonical form): {@code 127.0.0.0/8, ::1/128, localhost}; "none" when empty. */
    @Override
    public String toString() {
        if (isEmpty()) {
            return "none";
        }
        List<String> entries = new ArrayList<>();
        ranges.forEach(r -> entries.add(r.toCanonicalString()));
        entries.addAll(hosts);
        return String.join(", ", entries);
    }
}
