package dev.hourglass.core.engine;

import dev.hourglass.core.api.InvalidJobException;
import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.time.Instants;
import dev.hourglass.core.time.Rfc3339;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/** Validates a {@link JobRequest} and turns it into a {@link NewJob}, filling in the engine's defaults. */
final class Submissions {
    static final String DEFAULT_TENANT = "default";
    static final int MAX_ATTEMPTS_LIMIT = 1_000;
    static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    static final int MAX_KEY_LENGTH = 255;

    private final EngineConfig config;
    private final JobIdGenerator ids;
    private final Set<String> handlers;

    Submissions(EngineConfig config, JobIdGenerator ids, Set<String> handlers) {
        this.config = config;
        this.ids = ids;
        this.handlers = Set.copyOf(handlers);
    }

    /**
     * @param schedule how the caller said when ("delay:PT5S" or "at:2026-..."): part of the request's identity for
     *     idempotency, unlike the computed due time, which moves with the clock
     */
    NewJob toNewJob(JobRequest request, Instant dueAt, Instant now, String schedule, String owner) {
        validate(request, dueAt, now);
        int maxAttempts = request.maxAttempts() != null ? request.maxAttempts() : config.defaultMaxAttempts();
        Backoff backoff = request.backoff() != null ? request.backoff() : config.defaultBackoff();
        // The hash tells a retry from a conflicting reuse of an idempotency key; without a key nothing compares it,
        // so none is computed or stored (a SHA-256 per schedule, and 32 bytes per row).
        byte[] hash = request.idempotencyKey() == null ? null
                : request.requestHash() != null ? request.requestHash() : digest(request, schedule);
        String tenant = request.tenant() != null ? request.tenant() : DEFAULT_TENANT;
        return new NewJob(ids.next(), tenant, request.handler(), request.target(), request.payload(), dueAt, now,
                maxAttempts, backoff, request.timeout(), request.idempotencyKey(), hash, owner,
                request.traceParent());
    }

    /** {@code dueAt} (already in whole milliseconds) is in range and at most the maximum delay from {@code now}. */
    void validateDueAt(Instant dueAt, Instant now) {
        requireInRange(dueAt);
        // Compared as a duration, so that no instant is computed outside the range Instant can hold.
        if (Duration.between(now, dueAt).compareTo(config.maxDelay()) > 0) {
            throw new InvalidJobException("dueAt", "must be at most " + config.maxDelay().toDays()
                    + " days in the future");
        }
    }

    /** An instant a caller asked for, before any arithmetic on it: within {@link Instants#EARLIEST}..LATEST. */
    static void requireInRange(Instant dueAt) {
        if (!Instants.inRange(dueAt)) {
            throw new InvalidJobException("dueAt", "must be between " + Rfc3339.format(Instants.EARLIEST) + " and "
                    + Rfc3339.format(Instants.LATEST) + " (RFC 3339 years 0000 to 9999)");
        }
    }

    /** A delay before any arithmetic on it: not negative, at most the maximum delay. */
    void validateDelay(Duration delay) {
        if (delay.isNegative()) {
            throw new InvalidJobException("delay", "must be >= 0, was " + delay);
        }
        if (delay.compareTo(config.maxDelay()) > 0) {
            throw new InvalidJobException("delay", "must be at most " + config.maxDelay().toDays() + " days");
        }
    }

    private void validate(JobRequest request, Instant dueAt, Instant now) {
        if (!handlers.contains(request.handler())) {
            throw new InvalidJobException("handler", "no handler named '" + request.handler() + "' is registered");
        }
        validateDueAt(dueAt, now);
        if (request.payload().length > config.maxPayloadBytes()) {
            throw new InvalidJobException("payload", "must be at most " + config.maxPayloadBytes() + " bytes, was "
                    + request.payload().length);
        }
        if (request.maxAttempts() != null && (request.maxAttempts() < 1 || request.maxAttempts() > MAX_ATTEMPTS_LIMIT)) {
            throw new InvalidJobException("maxAttempts", "must be between 1 and " + MAX_ATTEMPTS_LIMIT);
        }
        Duration timeout = request.timeout();
        if (timeout != null && (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0)) {
            throw new InvalidJobException("timeout", "must be > 0 and at most " + MAX_TIMEOUT.toMinutes() + " minutes");
        }
        String key = request.idempotencyKey();
        if (key != null && (key.isEmpty() || key.length() > MAX_KEY_LENGTH)) {
            throw new InvalidJobException("idempotencyKey", "must be 1.." + MAX_KEY_LENGTH + " characters");
        }
        if (key != null && !storableText(key)) {
            throw new InvalidJobException("idempotencyKey", "must be text without control characters (NUL, "
                    + "U+0001..U+001F, U+007F) or unpaired surrogates");
        }
        String tenant = request.tenant();
        if (tenant != null && (tenant.isBlank() || tenant.length() > 100)) {
            throw new InvalidJobException("tenant", "must be 1..100 characters");
        }
    }

    /**
     * Text that every store keeps as given: no control character (PostgreSQL refuses NUL, SQLite keeps it, so one
     * key would have two fates) and no unpaired surrogate (encoded to UTF-8 as '?', so two keys could become one).
     */
    static boolean storableText(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** SHA-256 over every field that makes two requests "the same request". */
    private static byte[] digest(JobRequest r, String schedule) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, r.handler());
            update(sha, r.target());
            sha.update(ByteBuffer.allocate(4).putInt(r.payload().length).array());
            sha.update(r.payload());
            update(sha, String.valueOf(r.maxAttempts()));
            update(sha, String.valueOf(r.backoff()));
            update(sha, String.valueOf(r.timeout()));
            update(sha, schedule);
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static void update(MessageDigest sha, String s) {
        byte[] bytes = s == null ? new byte[] {-1} : s.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        sha.update(bytes);
    }
}
