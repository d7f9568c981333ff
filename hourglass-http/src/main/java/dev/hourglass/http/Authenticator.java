package dev.hourglass.http;

import dev.hourglass.tenancy.ApiKeys;
import dev.hourglass.tenancy.Tenant;
import dev.hourglass.tenancy.TenantDirectory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Who is calling: reads {@code Authorization: Bearer <key>} and answers with the tenant the key acts for, or that
 * it is the admin key. Every refusal is a 401 (no usable key: missing, malformed, unknown or revoked, with
 * {@code WWW-Authenticate: Bearer}) or a 403 (a valid key used where it has no business: a tenant key on the admin
 * API, the admin key on the jobs API). Nothing here touches the database ({@link TenantDirectory} is in memory),
 * and no key text ever reaches a log or an answer. A client address that failed too often is refused with 429
 * before its key is looked at ({@link AuthFailureThrottle}).
 */
final class Authenticator {
    private final TenantDirectory directory;
    /** {@link ApiKeys#hash} of the admin key, or null when none is configured (the admin API is then off). */
    private final byte[] adminKeyHash;
    private final AuthFailureThrottle throttle;

    Authenticator(TenantDirectory directory, String adminKey, AuthFailureThrottle throttle) {
        this.directory = directory;
        this.adminKeyHash = adminKey == null ? null : sha256(adminKey);
        this.throttle = throttle;
    }

    /** The tenant the request acts for. */
    Tenant tenant(HttpCall ex) {
        return throttled(ex, () -> tenantOf(ex));
    }

    /** Passes only the admin key. */
    void admin(HttpCall ex) {
        throttled(ex, () -> {
            adminOnly(ex);
            return null;
        });
    }

    /** Runs {@code check} unless the client failed too often; counts its 401s. */
    private <T> T throttled(HttpCall ex, Supplier<T> check) {
        String client = ex.clientAddress();
        long wait = throttle.retryAfterSeconds(client);
        if (wait > 0) {
            throw ApiProblem.of(429, "too-many-auth-failures", "Too many failed authentications",
                    "this client failed authentication too often; the key was not checked; retry after " + wait
                            + " s with a valid key").withHeader("Retry-After", Long.toString(wait)).exception();
        }
        try {
            return check.get();
        } catch (ApiProblem.ApiException e) {
            if (e.problem().status() == 401) {
                throttle.failed(client);
            }
            throw e;
        }
    }

    private Tenant tenantOf(HttpCall ex) {
        String key = bearer(ex);
        if (isAdminKey(key)) {
            throw ApiProblem.of(403, "forbidden", "Forbidden",
                    "the admin key manages tenants (/v1/admin/...); to act on jobs, use a tenant's API key")
                    .exception();
        }
        Optional<Tenant> tenant = directory.tenantForKey(key);
        tenant.ifPresent(t -> ex.tenant(t.name()));
        return tenant.orElseThrow(() -> unauthorized("the API key is not valid (unknown or revoked)"));
    }

    private void adminOnly(HttpCall ex) {
        if (adminKeyHash == null) {
            throw ApiProblem.of(403, "admin-disabled", "Forbidden",
                    "the admin API is off: start the server with HOURGLASS_ADMIN_KEY set")
                    .exception();
        }
        String key = bearer(ex);
        if (isAdminKey(key)) {
            ex.tenant("(admin)");
            return;
        }
        if (directory.tenantForKey(key).isPresent()) {
            throw ApiProblem.of(403, "forbidden", "Forbidden", "a tenant's API key cannot use the admin API")
                    .exception();
        }
        throw unauthorized("the admin key is not valid");
    }

    private boolean isAdminKey(String key) {
        // Compares hashes in constant time: the time taken says nothing about how much of the key matched.
        return adminKeyHash != null && MessageDigest.isEqual(adminKeyHash, sha256(key));
    }

    /** The token of {@code Authorization: Bearer <token>}; 401 when absent or malformed. */
    private static String bearer(HttpCall ex) {
        var values = ex.headers("Authorization");
        if (values.isEmpty()) {
            throw unauthorized("an API key is required: send 'Authorization: Bearer <API key>'");
        }
        if (values.size() > 1) {
            throw unauthorized("send exactly one Authorization header");
        }
        String value = values.getFirst().strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
            throw unauthorized("the Authorization header must be 'Bearer <API key>'");
        }
        String token = value.substring(space + 1).strip();
        if (!ApiKeys.wellFormed(token)) {
            throw unauthorized("the Authorization header must be 'Bearer <API key>'; the key is malformed");
        }
        return token;
    }

    private static ApiProblem.ApiException unauthorized(String detail) {
        return ApiProblem.of(401, "unauthorized", "Unauthorized", detail)
                .withHeader("WWW-Authenticate", "Bearer realm=\"hourglass\"").exception();
    }

    /** The same hash tenant keys are stored by, as bytes for the constant-time comparison. */
    private static byte[] sha256(String text) {
        return ApiKeys.hash(text).getBytes(StandardCharsets.US_ASCII);
    }
}
