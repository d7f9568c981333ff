package dev.hourglass.testing;

import dev.hourglass.core.time.SystemTime;
import dev.hourglass.core.time.Ticker;
import java.time.Instant;
import java.time.InstantSource;

/**
 * The system's clocks, with a fault to inject: once {@link #arm armed}, the first read of either clock on the thread
 * of the armed name throws the armed {@link Error}, as an {@code OutOfMemoryError} would strike whatever that thread
 * did next. Every long-lived thread of the engine reads a clock in each of its turns, so this reaches each of them
 * without a hook in the engine. Reads on other threads are never touched.
 */
public final class ThreadFaults implements InstantSource, Ticker {
    /** The error a test injects; its own type, so that nothing else is mistaken for it. */
    public static final class InjectedError extends Error {
        InjectedError(String thread) {
            super("injected into " + thread + " (test)");
        }
    }

    private final InstantSource wall = SystemTime.wallClock();
    private final Ticker ticker = SystemTime.ticker();
    private volatile String armedThread;
    private volatile Error armed;

    /** The next clock read on the thread named {@code thread} throws a new {@link InjectedError}, once. */
    public InjectedError arm(String thread) {
        InjectedError error = new InjectedError(thread);
        armed = error;
        armedThread = thread;
        return error;
    }

    private void strike() {
        String thread = armedThread;
        if (thread != null && thread.equals(Thread.currentThread().getName())) {
            Error error = armed;
            armedThread = null;
            throw error;
        }
    }

    @Override
    public Instant instant() {
        strike();
        return wall.instant();
    }

    @Override
    public long millis() {
        strike();
        return wall.millis();
    }

    @Override
    public long nanoTime() {
        strike();
        return ticker.nanoTime();
    }
}
