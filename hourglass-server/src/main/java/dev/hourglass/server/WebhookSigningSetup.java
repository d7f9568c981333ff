package dev.hourglass.server;

import dev.hourglass.webhook.signing.SecretFile;
import dev.hourglass.webhook.signing.SigningSecret;
import dev.hourglass.webhook.signing.WebhookSecrets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Which secrets this server signs webhooks with, decided once at start:
 * <ul>
 *   <li>configured ({@code --webhook-secret} / {@code HOURGLASS_WEBHOOK_SECRETS}): those, newest first;
 *   <li>none configured, SQLite store: the one in {@code DATA/webhook-secret}, generated (and shown once) on the
 *       first start, so that restarts keep signing with it;
 *   <li>none configured, PostgreSQL store: refused at start ({@link ServerConfig#validate}). Every node of a cluster
 *       must sign with the same secret; a secret generated per node would make receivers reject the deliveries of
 *       all but one node, and would change on every restart.
 * </ul>
 *
 * @param secrets the secrets, for every tenant (per-tenant secrets come with the tenants work)
 * @param description where the secrets come from, for the startup message; names key ids, never a secret
 * @param generated the secret this start generated, to be shown to the operator once; null otherwise
 */
public record WebhookSigningSetup(WebhookSecrets secrets, String description, SigningSecret generated) {

    /**
     * @param dataDir the data directory of the SQLite store (held by this server's store lock), or null on PostgreSQL
     * @throws StartupException when the secret file cannot be read or written, or does not hold a secret
     */
    static WebhookSigningSetup resolve(ServerConfig config, Path dataDir) {
        List<SigningSecret> configured = config.webhookSecrets();
        if (!configured.isEmpty()) {
            return new WebhookSigningSetup(WebhookSecrets.of(configured), configured.size() == 1
                    ? "the configured secret (key id " + configured.getFirst().keyId() + ")"
                    : configured.size() + " configured secrets, newest first (key ids "
                            + configured.stream().map(SigningSecret::keyId).collect(Collectors.joining(", ")) + ")",
                    null);
        }
        if (dataDir == null) {
            throw new StartupException("no webhook secret configured"); // validate() refuses this first
        }
        try {
            SecretFile.Loaded loaded = SecretFile.loadOrCreate(dataDir);
            return new WebhookSigningSetup(WebhookSecrets.of(List.of(loaded.secret())),
                    "the secret in " + loaded.file() + " (key id " + loaded.secret().keyId() + ")",
                    loaded.created() ? loaded.secret() : null);
        } catch (IOException e) {
            throw new StartupException("cannot keep the webhook secret in " + dataDir + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new StartupException(e.getMessage(), e);
        }
    }
}
