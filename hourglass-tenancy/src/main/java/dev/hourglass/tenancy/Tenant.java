package dev.hourglass.tenancy;

import dev.hourglass.core.api.TenantShares;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A tenant of a shared Hourglass: the owner of jobs, API keys, quotas and webhook secrets.
 *
 * @param name unique, 1..100 characters of {@code [a-z0-9._-]}, starting with a letter or digit
 * @param weight its share of delivery capacity when more jobs are due than a node can deliver at once, 1..1000
 * @param quotas what it may use
 * @param webhookSecrets the secrets its webhooks are signed with, in Standard Webhooks {@code whsec_...} form,
 *     newest first, never empty (two during a rotation). Stored as given: signing needs the secret itself. No
 *     secret may be blank or contain a line break (the Standard Webhooks form never does; a store may keep the
 *     list as lines of text).
 * @param targets how its webhook targets are watched (alarm thresholds, auto-pause) and where its operations events
 *     go; {@link TargetSettings#DEFAULTS} unless set
 * @param createdAt when it was created
 * @param updatedAt when its weight, quotas, secrets, target settings or connections last changed
 * @param connections the server's queue connections its jobs may deliver to, by name; null for every one
 */
public record Tenant(
        String name,
        int weight,
        Quotas quotas,
        List<String> webhookSecrets,
        TargetSettings targets,
        Instant createdAt,
        Instant updatedAt,
        Set<String> connections) {

    public static final int MAX_WEIGHT = TenantShares.MAX_WEIGHT;

    public Tenant {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(quotas, "quotas");
        Objects.requireNonNull(targets, "targets");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        webhookSecrets = List.copyOf(webhookSecrets);
        connections = connections == null ? null : Set.copyOf(connections);
        if (!validName(name)) {
            throw new IllegalArgumentException(
                    "name must be 1..100 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
        }
        if (weight < 1 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight must be between 1 and " + MAX_WEIGHT + ", was " + weight);
        }
        if (webhookSecrets.isEmpty()) {
            throw new IllegalArgumentException("webhookSecrets must not be empty");
        }
        for (String secret : webhookSecrets) {
            if (secret.isBlank() || secret.indexOf('\n') >= 0 || secret.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("webhookSecrets must not be blank or contain line breaks");
            }
        }
    }

    /** A tenant that may use every queue connection. */
    public Tenant(String name, int weight, Quotas quotas, List<String> webhookSecrets, TargetSettings targets,
            Instant createdAt, Instant updatedAt) {
        this(name, weight, quotas, webhookSecrets, targets, createdAt, updatedAt, null);
    }

    /** Whether its jobs may deliver over the queue connection {@code name}. */
    public boolean mayUse(String connection) {
        return connections == null || connections.contains(connection);
    }

    public Tenant withConnections(Set<String> value) {
        return new Tenant(name, weight, quotas, webhookSecrets, targets, createdAt, updatedAt, value);
    }

    public static boolean validName(String name) {
        return name != null && name.matches("[a-z0-9][a-z0-9._-]{0,99}");
    }

    public Tenant withWeight(int value) {
        return new Tenant(name, value, quotas, webhookSecrets, targets, createdAt, updatedAt, connections);
    }

    public Tenant withQuotas(Quotas value) {
        return new Tenant(name, weight, value, webhookSecrets, targets, createdAt, updatedAt, connections);
    }

    public Tenant withWebhookSecrets(List<String> value) {
        return new Tenant(name, weight, quotas, value, targets, createdAt, updatedAt, connections);
    }

    public Tenant withTargets(TargetSettings value) {
        return new Tenant(name, weight, quotas, webhookSecrets, value, createdAt, updatedAt, connections);
    }

    public Tenant withUpdatedAt(Instant value) {
        return new Tenant(name, weight, quotas, webhookSecrets, targets, createdAt, value, connections);
    }
}
