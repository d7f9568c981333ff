package dev.hourglass.core.engine;

import dev.hourglass.core.model.Backoff;
import java.time.Duration;
import java.util.Objects;

/**
 * Immutable engine settings. Every field has a named default; {@link #validate()} names the field and the rule
 * when a value is out of range (nothing is silently corrected). Build one with {@link #builder}, or change a few
 * settings of another with {@link #toBuilder}:
 *
 * <pre>{@code
 * EngineConfig config = EngineConfig.builder("node-a").horizon(Duration.ofMinutes(1)).maxInFlight(64).build();
 * }</pre>
 *
 * @param nodeId this node's identity in the store's claims; unique per running node
 * @param horizon jobs due within this window are claimed and held in the in-memory timer
 * @param loadInterval how often the horizon loader claims newly due-soon jobs and renews the node's lease
 * @param leaseTtl how long the node's claims stay valid without a heartbeat; after it other nodes rescue them
 * @param maxTimerEntries the most jobs held in memory; beyond it jobs wait in the store
 * @param maxInFlight the most attempts running at once on this node
 * @param commitBatch the most operations the group committer packs into one transaction
 * @param defaultMaxAttempts attempts before FAILED when a job does not say
 * @param defaultBackoff backoff when a job does not say
 * @param defaultTimeout timeout of one attempt when a job does not say
 * @param maxDelay the furthest in the future a job may be due
 * @param maxPayloadBytes the largest payload accepted
 * @param retention how long terminal jobs are kept before they are pruned
 * @param shutdownGrace how long a graceful shutdown waits for running attempts
 */
public record EngineConfig(
        String nodeId,
        Duration horizon,
        Duration loadInterval,
        Duration leaseTtl,
        int maxTimerEntries,
        int maxInFlight,
        int commitBatch,
        int defaultMaxAttempts,
        Backoff defaultBackoff,
        Duration defaultTimeout,
        Duration maxDelay,
        int maxPayloadBytes,
        Duration retention,
        Duration shutdownGrace) {

    public static final Duration DEFAULT_HORIZON = Duration.ofSeconds(30);
    public static final Duration DEFAULT_LOAD_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(10);
    public static final int DEFAULT_MAX_TIMER_ENTRIES = 1_000_000;
    public static final int DEFAULT_MAX_IN_FLIGHT = 512;
    public static final int DEFAULT_COMMIT_BATCH = 2_000;
    public static final int DEFAULT_MAX_ATTEMPTS = 5;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofDays(3650);
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);

    public EngineConfig {
        Objects.requireNonNull(nodeId, "nodeId");
    }

    /** Every setting at its default, for node {@code nodeId}. */
    public static EngineConfig defaults(String nodeId) {
        return builder(nodeId).build();
    }

    /** A builder with every setting at its default, for node {@code nodeId}. */
    public static Builder builder(String nodeId) {
        return new Builder(nodeId);
    }

    /** A builder that starts from these settings. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public EngineConfig validate() {
        positive("horizon", horizon);
        positive("loadInterval", loadInterval);
        positive("leaseTtl", leaseTtl);
        positive("defaultTimeout", defaultTimeout);
        positive("maxDelay", maxDelay);
        positive("retention", retention);
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(defaultBackoff, "defaultBackoff");
        if (nodeId.isBlank() || nodeId.length() > 100) {
            throw new IllegalArgumentException("nodeId must be 1..100 characters");
        }
        if (loadInterval.compareTo(horizon) >= 0) {
            throw new IllegalArgumentException("loadInterval must be shorter than horizon, was " + loadInterval);
        }
        if (leaseTtl.compareTo(loadInterval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException(
                    "leaseTtl must be at least two load intervals (the heartbeat runs each interval), was " + leaseTtl);
        }
        atLeast("maxTimerEntries", maxTimerEntries, 1);
        atLeast("maxInFlight", maxInFlight, 1);
        atLeast("commitBatch", commitBatch, 1);
        atLeast("defaultMaxAttempts", defaultMaxAttempts, 1);
        atLeast("maxPayloadBytes", maxPayloadBytes, 0);
        return this;
    }

    private static void positive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0, was " + d);
        }
    }

    private static void atLeast(String name, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", was " + value);
        }
    }

    /**
     * Builds an {@link EngineConfig}; {@link #build} validates it, naming the field and the rule of a value out of
     * range.
     */
    public static final class Builder {
        private String nodeId;
        private Duration horizon = DEFAULT_HORIZON;
        private Duration loadInterval = DEFAULT_LOAD_INTERVAL;
        private Duration leaseTtl = DEFAULT_LEASE_TTL;
        private int maxTimerEntries = DEFAULT_MAX_TIMER_ENTRIES;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private int commitBatch = DEFAULT_COMMIT_BATCH;
        private int defaultMaxAttempts = DEFAULT_MAX_ATTEMPTS;
        private Backoff defaultBackoff = Backoff.DEFAULT;
        private Duration defaultTimeout = DEFAULT_TIMEOUT;
        private Duration maxDelay = DEFAULT_MAX_DELAY;
        private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
        private Duration retention = DEFAULT_RETENTION;
        private Duration shutdownGrace = DEFAULT_SHUTDOWN_GRACE;

        private Builder(String nodeId) {
            this.nodeId = nodeId;
        }

        private Builder(EngineConfig c) {
            this(c.nodeId);
            horizon = c.horizon;
            loadInterval = c.loadInterval;
            leaseTtl = c.leaseTtl;
            maxTimerEntries = c.maxTimerEntries;
            maxInFlight = c.maxInFlight;
            commitBatch = c.commitBatch;
            defaultMaxAttempts = c.defaultMaxAttempts;
            defaultBackoff = c.defaultBackoff;
            defaultTimeout = c.defaultTimeout;
            maxDelay = c.maxDelay;
            maxPayloadBytes = c.maxPayloadBytes;
            retention = c.retention;
            shutdownGrace = c.shutdownGrace;
        }

        public Builder nodeId(String value) {
            this.nodeId = value;
            return this;
        }

        public Builder horizon(Duration value) {
            this.horizon = value;
            return this;
        }

        public Builder loadInterval(Duration value) {
            this.loadInterval = value;
            return this;
        }

        public Builder leaseTtl(Duration value) {
            this.leaseTtl = value;
            return this;
        }

        public Builder maxTimerEntries(int value) {
            this.maxTimerEntries = value;
            return this;
        }

        public Builder maxInFlight(int value) {
            this.maxInFlight = value;
            return this;
        }

        public Builder commitBatch(int value) {
            this.commitBatch = value;
            return this;
        }

        public Builder defaultMaxAttempts(int value) {
            this.defaultMaxAttempts = value;
            return this;
        }

        public Builder defaultBackoff(Backoff value) {
            this.defaultBackoff = value;
            return this;
        }

        public Builder defaultTimeout(Duration value) {
            this.defaultTimeout = value;
            return this;
        }

        public Builder maxDelay(Duration value) {
            this.maxDelay = value;
            return this;
        }

        public Builder maxPayloadBytes(int value) {
            this.maxPayloadBytes = value;
            return this;
        }

        public Builder retention(Duration value) {
            this.retention = value;
            return this;
        }

        public Builder shutdownGrace(Duration value) {
            this.shutdownGrace = value;
            return this;
        }

        /**
         * The settings, validated.
         *
         * @throws IllegalArgumentException naming the field and the rule of a value out of range
         */
        public EngineConfig build() {
            return new EngineConfig(nodeId, horizon, loadInterval, leaseTtl, maxTimerEntries, maxInFlight,
                    commitBatch, defaultMaxAttempts, defaultBackoff, defaultTimeout, maxDelay, maxPayloadBytes,
                    retention, shutdownGrace).validate();
        }
    }
}
