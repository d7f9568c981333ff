package dev.hourglass.http;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The longest a request waits for the engine and its store, so that a database that stopped answering gives the
 * client a 503 in bounded time instead of a hung connection. The store's own timeouts bound every call too, but a
 * request may queue behind other writes of the same group commit, so they alone would not bound the answer.
 *
 * <p>Measured on the monotonic clock ({@code Future.get} with a timeout). When the deadline passes, the request's
 * future is cancelled: a schedule whose write is still queued (or waiting for a connection) is then withdrawn and
 * never stored; one whose transaction had begun may still commit, so the answer says the outcome is unknown.
 */
final class StoreDeadline {
    /** Blocking engine calls run here, so that the request's own thread can stop waiting for them. */
    private static final Executor VIRTUAL = task -> Thread.ofVirtual().name("hourglass-api-call").start(task);

    private final Duration timeout;

    StoreDeadline(Duration timeout) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the store timeout must be > 0, was " + timeout);
        }
    }

    Duration timeout() {
        return timeout;
    }

    /** Waits for {@code future}; cancels it when the deadline passes. Rethrows its failure as it was thrown. */
    <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new Expired(timeout);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            throw new Expired(timeout);
        } catch (CancellationException e) {
            throw new Expired(timeout);
        }
    }

    /** Runs a blocking engine call (a read, a cancel, a reschedule) and waits for it at most until the deadline. */
    <T> T call(Supplier<T> call) {
        return await(CompletableFuture.supplyAsync(call, VIRTUAL));
    }

    private static RuntimeException unwrap(Throwable cause) {
        Throwable t = cause instanceof CompletionException && cause.getCause() != null ? cause.getCause() : cause;
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error error) {
            throw error;
        }
        return new CompletionException(t); // a checked exception from the engine is a bug: 500
    }

    /** The store did not answer in time; the request was not acknowledged. No stack trace: it is an answer. */
    static final class Expired extends RuntimeException {
        private final transient Duration timeout;

        Expired(Duration timeout) {
            super("the job store did not answer within " + timeout.toMillis() + " ms", null, false, false);
            this.timeout = timeout;
        }

        Duration timeout() {
            return timeout;
        }
    }
}
