package dev.hourglass.webhook.signing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One key that webhooks are signed with, in the Standard Webhooks form: {@code whsec_} followed by the base64 of
 * 24 to 64 random bytes (the spec's bounds: at least 192 bits, at most 512). The HMAC key is the decoded bytes,
 * not the text.
 *
 * <p>A class rather than a record: a record would compare the key array by identity and print it in
 * {@code toString}. This one compares in constant time and never prints the key, only its {@link #keyId()}, so a
 * secret that reaches a log line by accident is not leaked by it.
 */
public final class SigningSecret {
    public static final String PREFIX = "whsec_";
    public static final int MIN_BYTES = 24;
    public static final int MAX_BYTES = 64;
    /** Generated secrets: 256 bits, the HMAC-SHA256 block's worth of strength and then some. */
    public static final int GENERATED_BYTES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;

    private SigningSecret(byte[] key) {
        if (key.length < MIN_BYTES || key.length > MAX_BYTES) {
            throw new IllegalArgumentException("a webhook secret must be " + MIN_BYTES + " to " + MAX_BYTES
                    + " bytes once base64-decoded, was " + key.length);
        }
        this.key = key.clone();
    }

    /** A new random secret ({@value #GENERATED_BYTES} bytes from {@link SecureRandom}). */
    public static SigningSecret generate() {
        byte[] key = new byte[GENERATED_BYTES];
        RANDOM.nextBytes(key);
        return new SigningSecret(key);
    }

    /**
     * Reads {@code whsec_<base64>} (standard base64, padding optional; surrounding whitespace ignored).
     *
     * @throws IllegalArgumentException saying what is wrong, never echoing the text (it may be a real secret)
     */
    public static SigningSecret parse(String text) {
        Objects.requireNonNull(text, "text");
        String t = text.strip();
        if (!t.startsWith(PREFIX)) {
            throw new IllegalArgumentException("a webhook secret must start with " + PREFIX
                    + " followed by base64 (e.g. the output of 'hourglass webhook-secret')");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(t.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a webhook secret must be " + PREFIX + " followed by standard base64");
        }
        return new SigningSecret(key);
    }

    /** The HMAC key. A copy: callers cannot change the secret. */
    byte[] key() {
        return key.clone();
    }

    /** The text form, {@code whsec_<base64>}: what receivers are given. */
    public String encoded() {
        return PREFIX + Base64.getEncoder().encodeToString(key);
    }

    /**
     * A short public name for this secret: the first 8 hex digits of SHA-256 of the key. Lets an operator see which
     * secret a node signs with (and that every node has the same one) without printing the secret.
     */
    public String keyId() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key);
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SigningSecret other && MessageDigest.isEqual(key, other.key);
    }

    @Override
    public int hashCode() {
        return keyId().hashCode();
    }

    /** Never the key: {@code whsec_… (key id 1a2b3c4d)}. */
    @Override
    public String toString() {
        return PREFIX + "… (key id " + keyId() + ")";
    }
}
