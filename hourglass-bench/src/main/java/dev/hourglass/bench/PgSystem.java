package dev.hourglass.bench;

import java.time.Instant;
import java.util.List;

/**
 * One scheduler under test, opened on a fresh schema of the shared PostgreSQL server, with a no-op handler that
 * reports each start to a {@link Firings}. The scenarios drive every system through these four calls only, so they
 * measure all of them the same way.
 */
interface PgSystem extends AutoCloseable {

    /** Writes jobs due at the given instants through the system's own (batch) API, before {@link #start}. */
    void preload(List<Instant> dueTimes) throws Exception;

    /** Starts polling/claiming and firing. Everything that needs no clock (pools, schema checks) happened before. */
    void start() throws Exception;

    /**
     * Schedules one job due at {@code dueAt} and returns only after it is committed (the system's durable
     * schedule call). {@code caller} picks the node when the system has several.
     */
    void schedule(int caller, Instant dueAt) throws Exception;

    /** What the system says about its own work since the last call (Hourglass: its group commits), or null. */
    default String workSinceLastCall() {
        return null;
    }

    /** Stops the system and its pools. Must not throw for a system that was never started. */
    @Override
    void close();

    /** How one kind of system is opened on a schema; the schema exists and is empty. */
    @FunctionalInterface
    interface Opener {
        PgSystem open(PgServer server, String schema, Firings firings) throws Exception;
    }
}
