package dev.hourglass.server;

/**
 * The keys the server is given by its operator: the admin API's key ({@code HOURGLASS_ADMIN_KEY}) and a preset key
 * for the {@code default} tenant ({@code HOURGLASS_DEFAULT_API_KEY}). Either may be null. A class rather than a
 * record so that {@link #toString()} can never print them.
 *
 * @see dev.hourglass.tenancy.TenantDirectory#start
 */
public final class ServerKeys {
    public static final ServerKeys NONE = new ServerKeys(null, null);

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

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }

    @Override
    public String toString() {
        return "ServerKeys[admin=" + (adminKey != null ? "set" : "none") + ", defaultApiKey="
                + (defaultApiKey != null ? "preset" : "generated") + "]";
    }
}
