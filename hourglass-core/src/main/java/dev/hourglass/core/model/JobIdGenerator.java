package dev.hourglass.core.model;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.random.RandomGenerator;

/**
 * Generates UUIDv7 ids whose high 64 bits strictly increase (RFC 9562 method 1, a 12-bit counter in rand_a,
 * spilling into the timestamp when it overflows). The high half is therefore unique for one generator even when
 * the wall clock stands still or steps back; {@link #advancePast} seeds it from a store after a restart.
 * Thread-safe: one lock guards {@code lastHi} and the random pool.
 *
 * <p>The low halves come from a {@link SecureRandom} (ids stay unguessable), drawn {@value #POOL_BYTES} bytes at a
 * time: one {@code nextBytes} call per id costs a lock, a read of the kernel's random source and a SHA-1 mix, on
 * the schedule path (docs/perf-log.md). A pool spreads the per-call cost over 512 ids; the bytes are the same
 * quality.
 */
public final class JobIdGenerator {
    private static final long VERSION_7 = 0x7000L;
    private static final long VARIANT_MASK = 0x3FFF_FFFF_FFFF_FFFFL;
    private static final long VARIANT_BITS = 0x8000_0000_0000_0000L;

    private final InstantSource wallClock;
    static final int POOL_BYTES = 4096;

    private final RandomGenerator random;
    private final ByteBuffer pool = ByteBuffer.allocate(POOL_BYTES).position(POOL_BYTES);
    private long lastHi;

    public JobIdGenerator(InstantSource wallClock) {
        this(wallClock, new SecureRandom());
    }

    public JobIdGenerator(InstantSource wallClock, RandomGenerator random) {
        this.wallClock = wallClock;
        this.random = random;
    }

    public synchronized JobId next() {
        long candidate = (wallClock.millis() << 16) | VERSION_7;
        long hi = candidate > lastHi ? candidate : nextAfter(lastHi);
        lastHi = hi;
        long lo = (nextRandomLong() & VARIANT_MASK) | VARIANT_BITS;
        return new JobId(hi, lo);
    }

    /** Makes every later id's high half greater than {@code hi} (the largest one already stored). */
    public synchronized void advancePast(long hi) {
        if (hi > lastHi) {
            lastHi = hi;
        }
    }

    private long nextRandomLong() {
        if (!pool.hasRemaining()) {
            random.nextBytes(pool.array());
            pool.clear();
        }
        return pool.getLong();
    }

    private static long nextAfter(long hi) {
        long counter = hi & 0x0FFF;
        if (counter < 0x0FFF) {
            return hi + 1;
        }
        long millis = (hi >>> 16) + 1;
        return (millis << 16) | VERSION_7;
    }
}
