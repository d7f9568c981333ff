package dev.hourglass.webhook;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The rules a webhook URL must follow to be deliverable at all, checked once when a job is scheduled: a URL that
 * breaks one would fail at every attempt (the HTTP client refuses it, or no connection can ever be made), so it is
 * refused up front instead of being stored and retried until the job fails. Where the URL may point (the SSRF
 * guard) is a separate check, {@link dev.hourglass.webhook.address.GuardedDnsResolver}.
 *
 * <ul>
 *   <li>at most {@link #MAX_LENGTH} characters, all printable ASCII (RFC 3986: anything else is percent-encoded);
 *   <li>valid URI syntax, percent-encoding included ({@code %zz} is refused);
 *   <li>scheme {@code http} or {@code https}, any case;
 *   <li>a host: a DNS name (labels of 1..63 characters, at most 253 in all) or an IP literal;
 *   <li>no user info ({@code user:pass@}): the client refuses it at every attempt; credentials go in a header;
 *   <li>a port, if given, of 1..65535;
 *   <li>no fragment ({@code #...}): it is never sent, so the receiver would not see what the caller meant.
 * </ul>
 */
public final class WebhookUrls {
    public static final int MAX_LENGTH = 2_048;
    private static final int MAX_HOST_NAME = 253;
    private static final int MAX_LABEL = 63;
    private static final String PORT_RULE = "must have a port between 1 and 65535 (or none)";

    /** A checked URL: {@code url} when it is deliverable, else {@code refusal}, the rule it breaks. */
    public record Checked(URI url, String refusal) {
        public boolean ok() {
            return url != null;
        }
    }

    private WebhookUrls() {}

    public static Checked check(String text) {
        if (text.length() > MAX_LENGTH) {
            return refused("must be at most " + MAX_LENGTH + " characters");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return refused("must be printable ASCII without spaces (percent-encode anything else, RFC 3986); "
                        + "found U+" + String.format(Locale.ROOT, "%04X", (int) c) + " at index " + i);
            }
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            return refused("must be a valid URL: " + e.getReason() + (e.getIndex() >= 0 ? " at index "
                    + e.getIndex() : ""));
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            return refused("must be an http or https URL");
        }
        if (uri.getRawUserInfo() != null) {
            return refused("must not contain user info (user:password@): the client never sends it; put "
                    + "credentials in target.headers (for example Authorization)");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            String authority = uri.getRawAuthority();
            if (authority != null && hasOutOfRangePort(authority)) {
                return refused(PORT_RULE);
            }
            return refused(authority == null ? "must have a host"
                    : "must have a host that is a DNS name or an IP literal");
        }
        String hostRefusal = hostName(uri.getHost());
        if (hostRefusal != null) {
            return refused(hostRefusal);
        }
        if (uri.getPort() != -1 && (uri.getPort() < 1 || uri.getPort() > 65_535)) {
            return refused(PORT_RULE);
        }
        if (uri.getRawFragment() != null) {
            return refused("must not have a fragment (#...): it is never sent to the receiver");
        }
        return new Checked(uri, null);
    }

    /**
     * An authority that {@link URI} could not read as host and port because the port is too long for an int
     * ({@code 127.0.0.1:4294967297}): named as a port problem, which it is.
     */
    private static boolean hasOutOfRangePort(String authority) {
        int colon = authority.lastIndexOf(':');
        if (colon <= 0 || colon < authority.lastIndexOf(']') || colon == authority.length() - 1) {
            return false;
        }
        String digits = authority.substring(colon + 1);
        return digits.chars().allMatch(c -> c >= '0' && c <= '9')
                && (digits.length() > 5 || Integer.parseInt(digits) == 0 || Integer.parseInt(digits) > 65_535);
    }

    /** A DNS name's lengths (an IP literal passes: the address guard judges it). */
    private static String hostName(String host) {
        if (host.startsWith("[")) {
            return null;
        }
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (name.length() > MAX_HOST_NAME) {
            return "must have a host name of at most " + MAX_HOST_NAME + " characters";
        }
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > MAX_LABEL) {
                return "must have a host name whose labels are 1.." + MAX_LABEL + " characters";
            }
        }
        return null;
    }

    private static Checked refused(String rule) {
        return new Checked(null, rule);
    }
}
