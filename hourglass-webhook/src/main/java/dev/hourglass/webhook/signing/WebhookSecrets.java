package dev.hourglass.webhook.signing;

import java.util.List;

/**
 * Which secrets sign the webhooks of a tenant. The seam for per-tenant secrets: today every tenant shares the
 * server's configured secrets ({@link ConfiguredWebhookSecrets}); the tenants work can answer per tenant without the
 * delivery code changing.
 */
@FunctionalInterface
public interface WebhookSecrets {
    /**
     * The secrets every delivery of this tenant's jobs is signed with, newest first, never empty. Each one adds a
     * signature to {@code webhook-signature}, so a receiver that knows any of them accepts the delivery (rotation).
     */
    List<SigningSecret> secretsFor(String tenant);

    /** The same secrets for every tenant. */
    static WebhookSecrets of(List<SigningSecret> secrets) {
        return new ConfiguredWebhookSecrets(secrets);
    }
}
