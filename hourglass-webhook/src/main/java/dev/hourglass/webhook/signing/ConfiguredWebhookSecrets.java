package dev.hourglass.webhook.signing;

import java.util.List;

/**
 * The server's own secrets (from {@code --webhook-secret} / {@code HOURGLASS_WEBHOOK_SECRETS}, or the generated one),
 * used for every tenant.
 *
 * @param secrets newest first; at least one
 */
public record ConfiguredWebhookSecrets(List<SigningSecret> secrets) implements WebhookSecrets {
    public ConfiguredWebhookSecrets {
        secrets = List.copyOf(secrets);
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("at least one webhook secret is needed");
        }
    }

    @Override
    public List<SigningSecret> secretsFor(String tenant) {
        return secrets;
    }
}
