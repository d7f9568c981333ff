package dev.hourglass.http;

import dev.hourglass.webhook.WebhookUrls;
import dev.hourglass.webhook.address.AddressRefusal;
import dev.hourglass.webhook.address.GuardedDnsResolver;
import java.net.URI;
import java.util.Optional;

/**
 * The check of a URL the API is given for Hourglass to POST to later: one that can be delivered at all
 * ({@link WebhookUrls}), whose host is not, and does not resolve to, a blocked address (loopback, private,
 * link-local, ...) unless the operator allowlisted it. The same rules, in the same words, as a job's
 * {@code target.url} ({@link ScheduleRequestParser}), checked with the same guard the webhook client resolves
 * through, so that an admin cannot point a tenant's operations webhook where a job could not go.
 */
final class OutboundUrls {

    /** The URL when it may be used, else the rule it breaks (with the value, shortened). */
    record Checked(URI url, String refusal) {}

    private OutboundUrls() {}

    static Checked check(String text, GuardedDnsResolver addressGuard) {
        WebhookUrls.Checked checked = WebhookUrls.check(text);
        if (!checked.ok()) {
            return new Checked(null, checked.refusal() + ", was \"" + abbreviate(text) + "\"");
        }
        URI uri = checked.url();
        Optional<AddressRefusal> refused = addressGuard.check(uri.getHost());
        if (refused.isPresent()) {
            return new Checked(null, "must not reach a " + refused.get().rule() + " address: "
                    + refused.get().describe() + "; webhooks to loopback, private, link-local, CGNAT, multicast and "
                    + "cloud metadata addresses are refused unless the operator allowlists them "
                    + "(--webhook-allowlist or HOURGLASS_WEBHOOK_ALLOWLIST)");
        }
        return new Checked(uri, null);
    }

    private static String abbreviate(String text) {
        String clean = text.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= 64 ? clean : clean.substring(0, 61) + "...";
    }
}
