package dev.hourglass.store.testkit;

import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.model.TraceParent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * {@link NewJob} fixtures for store tests. Every time is a whole millisecond (stores keep epoch milliseconds), and
 * ids come from one {@link JobIdGenerator} on a fixed clock, so they strictly increase in creation order.
 *
 * <pre>{@code
 * NewJob job = TestJobs.job().tenant("acme").dueAt(T0.plusSeconds(5)).idempotency("k1", TestJobs.hash("a")).build();
 * }</pre>
 */
public final class TestJobs {
    /** The fixed wall time the store tests start at. */
    public static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    private static final JobIdGenerator IDS = new JobIdGenerator(InstantSource.fixed(T0));

    private TestJobs() {}

    public static JobId nextId() {
        return IDS.next();
    }

    /** A builder with defaults: tenant {@code t1}, handler {@code webhook}, due and created at {@link #T0}. */
    public static Builder job() {
        return new Builder();
    }

    /** {@code T0 + seconds}. */
    public static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    /** A SHA-256 digest of {@code text}, as a request hash. */
    public static byte[] hash(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    public static final class Builder {
        private JobId id;
        private String tenant = "t1";
        private String handler = "webhook";
        private String target;
        private byte[] payload = new byte[0];
        private Instant dueAt = T0;
        private Instant createdAt = T0;
        private int maxAttempts = 3;
        private Backoff backoff = Backoff.DEFAULT;
        private Duration timeout;
        private String idempotencyKey;
        private byte[] requestHash;
        private String owner;
        private TraceParent traceParent;

        private Builder() {}

        public Builder id(JobId value) {
            this.id = value;
            return this;
        }

        public Builder tenant(String value) {
            this.tenant = value;
            return this;
        }

        public Builder handler(String value) {
            this.handler = value;
            return this;
        }

        public Builder target(String value) {
            this.target = value;
            return this;
        }

        public Builder payload(byte[] value) {
            this.payload = value;
            return this;
        }

        public Builder payload(String utf8) {
            this.payload = utf8.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        public Builder dueAt(Instant value) {
            this.dueAt = value;
            return this;
        }

        /** Due at {@code T0 + seconds}. */
        public Builder dueIn(long seconds) {
            this.dueAt = at(seconds);
            return this;
        }

        public Builder createdAt(Instant value) {
            this.createdAt = value;
            return this;
        }

        public Builder maxAttempts(int value) {
            this.maxAttempts = value;
            return this;
        }

        public Builder backoff(Backoff value) {
            this.backoff = value;
            return this;
        }

        public Builder timeout(Duration value) {
            this.timeout = value;
            return this;
        }

        public Builder idempotency(String key, byte[] hash) {
            this.idempotencyKey = key;
            this.requestHash = hash;
            return this;
        }

        /** The node that claims the job as it is inserted. */
        public Builder owner(String value) {
            this.owner = value;
            return this;
        }

        /** The trace context of the call that scheduled it. */
        public Builder traceParent(String header) {
            this.traceParent = new TraceParent(header);
            return this;
        }

        /**
         * The job as a store would hold it in {@code state}, claimed by {@code owner} (null: unowned) under
         * {@code fencingToken}, with one attempt counted unless SCHEDULED: for engine tests whose stand-in store
         * answers reads and claims.
         */
        public Job stored(JobState state, String owner, long fencingToken) {
            NewJob job = build();
            return new Job(job.id(), job.tenant(), job.handler(), job.target(), job.payload(), state, job.dueAt(),
                    job.createdAt(), job.createdAt(), state == JobState.SCHEDULED ? 0 : 1, job.maxAttempts(),
                    job.backoff(), job.timeout(), job.idempotencyKey(), job.requestHash(), null, owner, fencingToken,
                    job.traceParent());
        }

        public NewJob build() {
            return new NewJob(id != null ? id : nextId(), tenant, handler, target, payload, dueAt, createdAt,
                    maxAttempts, backoff, timeout, idempotencyKey, requestHash, owner, traceParent);
        }
    }
}
