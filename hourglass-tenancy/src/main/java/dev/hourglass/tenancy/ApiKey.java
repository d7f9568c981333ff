package dev.hourglass.tenancy;

import java.time.Instant;
import java.util.Objects;

/**
 * One API key of a tenant, as stored: never the key itself, only its hash. A tenant has several keys so that a key
 * can be rotated (issue the new one, move the callers, revoke the old one).
 *
 * @param id the key's public identifier (for listing and revoking; safe to log), unique per store
 * @param tenant the tenant the key acts for
 * @param hash lowercase hex SHA-256 of the key's text; unique per store. Keys are 256-bit random strings, so a
 *     fast hash is enough: there is nothing to brute-force, unlike passwords.
 * @param createdAt when it was issued
 * @param revokedAt when it was revoked, or null while it is valid
 */
public record ApiKey(String id, String tenant, String hash, Instant createdAt, Instant revokedAt) {
    public ApiKey {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    public boolean active() {
        return revokedAt == null;
    }
}
