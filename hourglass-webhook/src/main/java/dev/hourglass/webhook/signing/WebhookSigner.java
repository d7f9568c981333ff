package dev.hourglass.webhook.signing;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs webhook deliveries as the Standard Webhooks spec (standardwebhooks.com, version 1) says: HMAC-SHA256 with
 * the secret's bytes over {@code {webhook-id}.{webhook-timestamp}.{body}}, sent as {@code v1,<base64>}; with several
 * secrets (a rotation), one signature per secret, separated by spaces. Any Standard Webhooks library verifies it.
 *
 * <p>The message id is the job id: the spec wants an id that stays the same when a message is sent again, so that
 * receivers can deduplicate on it, and every attempt of a job delivers the same message. The timestamp is the time
 * of sending, in unix seconds, so a receiver can refuse a replayed old delivery (the libraries allow 5 minutes).
 */
public final class WebhookSigner {
    public static final String HEADER_ID = "webhook-id";
    public static final String HEADER_TIMESTAMP = "webhook-timestamp";
    public static final String HEADER_SIGNATURE = "webhook-signature";
    static final String ALGORITHM = "HmacSHA256";
    static final String VERSION = "v1";

    /** The three headers of one delivery. */
    public record SignedHeaders(String id, long timestamp, String signature) {}

    private final WebhookSecrets secrets;
    private final InstantSource clock;

    /**
     * @param secrets the secrets per tenant
     * @param clock the wall clock the {@code webhook-timestamp} is read from (the receiver compares it to its own)
     */
    public WebhookSigner(WebhookSecrets secrets, InstantSource clock) {
        this.secrets = Objects.requireNonNull(secrets, "secrets");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The headers for one delivery of message {@code id} with this body, signed now with the tenant's secrets. */
    public SignedHeaders sign(String tenant, String id, byte[] body) {
        long now = clock.instant().getEpochSecond();
        return new SignedHeaders(id, now, signature(id, now, body, secrets.secretsFor(tenant)));
    }

    /**
     * The {@code webhook-signature} value: {@code v1,<base64>} per secret, in the order given, space-separated.
     *
     * @param id the message id; must not contain {@code .} (it delimits the signed content)
     */
    public static String signature(String id, long timestamp, byte[] body, List<SigningSecret> secrets) {
        if (id.indexOf('.') >= 0) {
            throw new IllegalArgumentException("a webhook id must not contain '.'");
        }
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("no secret to sign with");
        }
        byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
        StringBuilder header = new StringBuilder();
        for (SigningSecret secret : secrets) {
            if (!header.isEmpty()) {
                header.append(' ');
            }
            header.append(VERSION).append(',').append(Base64.getEncoder().encodeToString(hmac(secret, prefix, body)));
        }
        return header.toString();
    }

    private static byte[] hmac(SigningSecret secret, byte[] prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM); // not thread-safe, and cheap to make: one per signature
            mac.init(new SecretKeySpec(secret.key(), ALGORITHM));
            mac.update(prefix);
            mac.update(body);
            return mac.doFinal();
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
