package dev.hourglass.server;

import dev.hourglass.tenancy.ApiKeys;

/**
 * The keys the server is given by its operator: the admin API's key ({@code HOURGLASS_ADMIN_KEY}) and a preset key
 * for the {@code default} tenant ({@code HOURGLASS_DEFAULT_API_KEY}). Either may be null. A class rather than a
 * record so that {@link #toString()} can never print them.
 *
 * <p>The admin key must be at least {@value #MIN_ADMIN_KEY_LENGTH} characters. It reads every tenant's webhook
 * secrets and issues keys for any tenant, and it is chosen by a person rather than generated, so a word or a short
 * password is the risk: 32 is the length of 128 random bits in hex ({@code openssl rand -hex 16}), the shortest
 * common spelling of a key no one can guess, and longer than the passwords people make up. A length cannot prove
 * randomness; it refuses {@code admin}, {@code changeme} and their kind. The default tenant's key has its own rule
 * ({@link ApiKeys#MIN_PRESET_LENGTH}: 128 bits as base64). Both are refused at start, before anything opens, by a
 * message that names the variable and the rule and never the key.
 *
 * @see dev.hourglass.tenancy.TenantDirectory#start
 */
public final class ServerKeys {
    public static final ServerKeys NONE = new ServerKeys(null, null);
    public static final String ADMIN_KEY_ENV = "HOURGLASS_ADMIN_KEY";
    public static final String DEFAULT_API_KEY_ENV = "HOURGLASS_DEFAULT_API_KEY";
    /** The shortest admin key accepted; why 32, in the class comment. */
    public static final int MIN_ADMIN_KEY_LENGTH = 32;

    private final String adminKey;
    private final String defaultApiKey;

    public ServerKeys(String adminKey, String defaultApiKey) {
        this.adminKey = blankToNull(adminKey);
        this.defaultApiKey = blankToNull(defaultApiKey);
    }

    /** The admin API's key; null turns the admin API off. */
    public String adminKey() {
        return adminKey;
    }

    /** The key the {@code default} tenant must have; null: one is generated on the first start and shown once. */
    public String defaultApiKey() {
        return defaultApiKey;
    }

    /**
     * Refuses a weak or malformed key, naming where it came from ({@code name}) and the rule, never the key.
     *
     * @throws StartupException if either key breaks its rule
     */
    public ServerKeys check(String adminKeyName, String defaultApiKeyName) {
        checkAdminKey(adminKeyName, adminKey);
        if (defaultApiKey != null) {
            try {
                ApiKeys.checkPreset(defaultApiKey);
            } catch (IllegalArgumentException e) {
                throw new StartupException(defaultApiKeyName + ": " + e.getMessage());
            }
        }
        return this;
    }

    private static void checkAdminKey(String name, String key) {
        if (key != null && (key.length() < MIN_ADMIN_KEY_LENGTH || !ApiKeys.wellFormed(key))) {
            throw new StartupException(name + ": the admin key must be at least " + MIN_ADMIN_KEY_LENGTH
                    + " characters (at most 256) of A-Z, a-z, 0-9, '-', '.', '_', '~', '+' or '/': it controls every "
                    + "tenant; make one with 'openssl rand -hex 32'");
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }

    @Override
    public String toString() {
        return "ServerKeys[admin=" + (adminKey != null ? "set" : "none") + ", defaultApiKey="
                + (defaultApiKey != null ? "preset" : "generated") + "]";
    }
}
