package dev.hourglass.queues;

import java.time.Duration;

/**
 * Publishes messages over one named connection. Thread-safe: called concurrently, from the engine's virtual
 * threads. Connects on first use and again after a connection is lost, so that a server starts while a broker is
 * down and delivers once it is back; a publish while the system is unreachable is {@link PublishResult.Unavailable},
 * quickly, never queued in memory behind the caller's back.
 */
public interface Publisher extends AutoCloseable {

    /**
     * Publishes {@code message} to {@code target} and waits for the system's acknowledgement.
     *
     * @param timeout how long to wait at most, from the start of the call
     * @throws InterruptedException when the attempt is interrupted (its timeout passed)
     */
    PublishResult publish(QueueTarget target, QueueMessage message, Duration timeout) throws InterruptedException;

    /** Closes the connection; publishing after it fails. */
    @Override
    void close();
}
