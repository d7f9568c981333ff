package dev.hourglass.core.targets;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One watched target: a tenant's receiver, named as its deliveries name it (a webhook's origin
 * {@code https://host:443}, an in-process handler's name). Targets are watched per tenant: two tenants calling the
 * same receiver are two targets, so one tenant's failures never pause another's deliveries.
 */
public record TargetKey(String tenant, String target) {
    public TargetKey {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(target, "target");
    }

    /**
     * A short stable id for the API ({@code /v1/targets/{id}}): the first 16 hex digits of SHA-256 over tenant and
     * target. The same on every node and across restarts; a target can also be named by its URL-encoded origin.
     */
    public String id() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((tenant + "\n" + target).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The monitor's source name of this target (tenant and target, which a tenant name cannot contain: a tab). */
    String source() {
        return tenant + '\t' + target;
    }

    /** The target whose {@link #source()} is {@code source}. */
    static TargetKey ofSource(String source) {
        int tab = source.indexOf('\t');
        return new TargetKey(source.substring(0, tab), source.substring(tab + 1));
    }
}
