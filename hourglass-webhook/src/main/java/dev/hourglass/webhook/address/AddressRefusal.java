package dev.hourglass.webhook.address;

import java.net.InetAddress;

/**
 * Why a webhook host may not be reached: the address it names or resolves to, and the blocked range that holds it.
 *
 * @param host the host as written in the URL
 * @param address the address that is refused
 * @param rule the kind of range, e.g. "loopback", "private", "cloud metadata"
 * @param range the range in CIDR form, e.g. {@code 127.0.0.0/8}
 */
public record AddressRefusal(String host, InetAddress address, String rule, String range) {

    /**
     * {@code 127.0.0.1 is a loopback address (127.0.0.0/8)}, {@code 2130706433 is 127.0.0.1, a loopback address
     * (127.0.0.0/8)}, or {@code localhost resolves to 127.0.0.1, a loopback address (127.0.0.0/8)}.
     */
    public String describe() {
        String ip = AddressPolicy.toIpAddress(address).toCanonicalString();
        String what = article(rule) + " " + rule + " address (" + range + ")";
        if (WebhookAllowlist.normalizeHost(host).equals(ip)) {
            return ip + " is " + what;
        }
        return host + (isLiteral(host) ? " is " : " resolves to ") + ip + ", " + what;
    }

    /** An IPv6 literal, or a host made of digits and dots that the JDK reads as an IPv4 address. */
    private static boolean isLiteral(String host) {
        return host.startsWith("[") || host.chars().allMatch(c -> Character.isDigit(c) || c == '.');
    }

    private static String article(String word) {
        return "aeiouAEIOU".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }
}
