package dev.hourglass.server.cli;

import dev.hourglass.webhook.signing.SigningSecret;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * {@code hourglass webhook-secret}: prints a new random webhook signing secret ({@code whsec_...}, 32 bytes), for
 * {@code HOURGLASS_WEBHOOK_SECRETS}. A cluster on PostgreSQL needs one (every node the same); a rotation puts the new
 * one first and keeps the old one after it until every receiver knows the new one.
 */
@Command(name = "webhook-secret",
        mixinStandardHelpOptions = true,
        description = "Print a new random webhook signing secret (whsec_...) for HOURGLASS_WEBHOOK_SECRETS.")
final class WebhookSecretCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().getOut().println(SigningSecret.generate().encoded());
        spec.commandLine().getOut().flush();
    }
}
