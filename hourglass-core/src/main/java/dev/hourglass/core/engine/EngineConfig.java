package dev.hourglass.core.engine;

import dev.hourglass.core.model.Backoff;
import java.time.Duration;
import java.util.Objects;

/**
 * Immutable engine settings. Every field has a named default; {@link #validate()} names the field and the rule
 * when a value is out of range (nothing is silently corrected).
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

    public static EngineConfig defaults(String nodeId) {
        return new EngineConfig(nodeId, DEFAULT_HORIZON, DEFAULT_LOAD_INTERVAL, DEFAULT_LEASE_TTL,
                DEFAULT_MAX_TIMER_ENTRIES, DEFAULT_MAX_IN_FLIGHT, DEFAULT_COMMIT_BATCH, DEFAULT_MAX_ATTEMPTS,
                Backoff.DEFAULT, DEFAULT_TIMEOUT, DEFAULT_MAX_DELAY, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_RETENTION,
                DEFAULT_SHUTDOWN_GRACE);
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
}
