package dev.hourglass.core.store;

import dev.hourglass.core.model.JobId;
import java.time.Instant;
import java.util.Objects;

/**
 * Retry a FAILED job of {@code tenant} by hand ({@link dev.hourglass.core.model.Transition#RETRY_BY_HAND}): it becomes
 * SCHEDULED again, unowned, due at {@code dueAt}, with {@code freshAttempts} more attempts than it has used. Its
 * attempt numbers continue (the next attempt is {@code attempts + 1}), and its last error is kept until an attempt
 * replaces it.
 *
 * @param tenant only a job of this tenant; null = any tenant, for operators
 * @param freshAttempts how many more attempts the job may make, 1 to {@value #MAX_FRESH_ATTEMPTS}: its
 *     {@code max_attempts} becomes {@code attempts + freshAttempts}
 * @param by who asked for the retry, as the store records it ({@code retried_by}); null when the caller did not say
 * @param now the time of the retry: the job's {@code retried_at} and {@code updated_at}
 */
public record RetryRequest(JobId id, String tenant, Instant dueAt, int freshAttempts, String by, Instant now) {

    /** The most attempts one retry may add: as many as a job may have when it is scheduled. */
    public static final int MAX_FRESH_ATTEMPTS = 1_000;

    public RetryRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(dueAt, "dueAt");
        Objects.requireNonNull(now, "now");
        requireFreshAttempts(freshAttempts);
    }

    /**
     * Returns {@code freshAttempts} if a retry may add that many attempts.
     *
     * @throws IllegalArgumentException unless it is between 1 and {@value #MAX_FRESH_ATTEMPTS}
     */
    public static int requireFreshAttempts(int freshAttempts) {
        if (freshAttempts < 1 || freshAttempts > MAX_FRESH_ATTEMPTS) {
            throw new IllegalArgumentException("freshAttempts must be between 1 and " + MAX_FRESH_ATTEMPTS + ", was "
                    + freshAttempts);
        }
        return freshAttempts;
    }
}
