package dev.hourglass.store.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The LISTEN/NOTIFY channel on which a store announces jobs committed in a caller's transaction, and the payload's
 * format: the earliest due time of the jobs, in epoch milliseconds, as decimal text.
 *
 * <p>Notifications are scoped to one database, so the channel names the schema, and two Hourglass deployments in
 * two schemas of one database never wake each other. A channel name is an identifier of at most 63 bytes
 * ({@code pg_notify} refuses a longer one, LISTEN would truncate it), so a schema name that does not fit, or is not
 * plain lower-case, is replaced by a digest of it.
 *
 * @param name {@code hourglass_jobs_<schema>}: lower-case letters, digits and underscores only, so it never needs
 *     quoting or escaping
 */
record NewJobChannel(String name) {
    private static final String PREFIX = "hourglass_jobs_";
    private static final int MAX_IDENTIFIER_BYTES = 63;
    private static final Pattern PLAIN = Pattern.compile("[a-z0-9_]+");

    NewJobChannel {
        if (!PLAIN.matcher(name).matches() || name.length() > MAX_IDENTIFIER_BYTES) {
            throw new IllegalArgumentException("not a plain channel name of at most 63 bytes: " + name);
        }
    }

    /** The channel of the store whose tables live in {@code schema} (as {@code current_schema()} names it). */
    static NewJobChannel forSchema(String schema) {
        String plain = PREFIX + schema;
        if (PLAIN.matcher(schema).matches() && plain.length() <= MAX_IDENTIFIER_BYTES) {
            return new NewJobChannel(plain);
        }
        return new NewJobChannel(PREFIX + HexFormat.of().formatHex(sha256(schema), 0, 16));
    }

    static String payload(Instant earliestDueAt) {
        return Long.toString(earliestDueAt.toEpochMilli());
    }

    /** The due time a payload announces; empty for a payload this store did not write. */
    static Optional<Instant> dueAt(String payload) {
        try {
            return Optional.of(Instant.ofEpochMilli(Long.parseLong(payload.strip())));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
