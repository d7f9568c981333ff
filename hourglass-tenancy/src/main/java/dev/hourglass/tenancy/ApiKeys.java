package dev.hourglass.tenancy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API keys: how they are made, checked and stored. A key is {@code hgk_} followed by 43 base64url characters
 * (256 random bits). Only its SHA-256 is stored: with 256 bits of entropy there is nothing to brute-force, so the
 * slow, salted hashes that passwords need would only slow down every request. The key's text is shown once, when
 * it is issued, and never logged.
 */
public final class ApiKeys {
    public static final String PREFIX = "hgk_";
    /** The shortest key accepted from configuration ({@code HOURGLASS_DEFAULT_API_KEY}): 128 bits as base64. */
    public static final int MIN_PRESET_LENGTH = 22;
    static final int MAX_LENGTH = 256;
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeys() {}

    /** A key as issued: its text (to show once) and what is stored of it. */
    public record Issued(String text, ApiKey stored) {
        @Override
        public String toString() {
            return "Issued[id=" + stored.id() + ", tenant=" + stored.tenant() + "]"; // never the text
        }
    }

    /** A new random key for {@code tenant}. */
    public static Issued issue(String tenant, Instant now) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return preset(tenant, PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes), now);
    }

    /**
     * A key whose text the operator chose (for scripts, tests and containers).
     *
     * @throws IllegalArgumentException if it is too short or has characters a Bearer token may not have; the
     *     message never echoes the key
     */
    public static Issued preset(String tenant, String text, Instant now) {
        checkPreset(text);
        return new Issued(text, new ApiKey(newKeyId(), tenant, hash(text), now, null));
    }

    /**
     * Checks a key chosen by the operator, so that configuration can be refused before anything starts.
     *
     * @throws IllegalArgumentException if it is too short or has characters a Bearer token may not have; the
     *     message never echoes the key
     */
    public static void checkPreset(String text) {
        if (text.length() < MIN_PRESET_LENGTH || text.length() > MAX_LENGTH || !tokenCharacters(text)) {
            throw new IllegalArgumentException("an API key must be " + MIN_PRESET_LENGTH + " to " + MAX_LENGTH
                    + " characters of A-Z, a-z, 0-9, '-', '.', '_', '~', '+' or '/' (e.g. 'hgk_' and 43 random "
                    + "base64url characters)");
        }
    }

    /** Whether {@code text} could be a key at all (RFC 6750 token characters, bounded length). */
    public static boolean wellFormed(String text) {
        return !text.isEmpty() && text.length() <= MAX_LENGTH && tokenCharacters(text);
    }

    /** Lowercase hex SHA-256 of the key's UTF-8 text: what the store keeps and looks up. */
    public static String hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** A key's public name: {@code key_} and 16 hex digits, random (not derived from the key). */
    static String newKeyId() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return "key_" + HexFormat.of().formatHex(bytes);
    }

    private static boolean tokenCharacters(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
            if (!ok && !(c == '=' && i > 0)) {
                return false;
            }
        }
        return true;
    }
}
