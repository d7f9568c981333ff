package dev.hourglass.core.supervision;

import dev.hourglass.core.time.SystemTime;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the death of an engine thread visible. Each loop survives the exceptions it was written for (a store
 * outage, a handler's failure) and continues; anything else reaching the top of a thread, an {@link Error} above all,
 * ends here: the engine is marked failed, logs it, stops (no more firing, no more lease renewals, so other nodes
 * rescue its claims when the lease runs out) and tells the {@link FatalErrorHandler}, once.
 *
 * <p>Why stop rather than carry on: a node whose timer died but whose lease is still renewed would hold its claimed
 * jobs forever, firing none, while every other node keeps away from them. A stopped node holds them only until
 * its lease runs out.
 *
 * <p>Threads of the engine's own have this as their uncaught-exception handler. Periodic tasks run on executors,
 * which keep a task's exception in its future and silently cancel the task: they are wrapped with
 * {@link #supervised}, or, outside an engine, {@link #reportingErrors}.
 */
public final class Supervision implements Thread.UncaughtExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(Supervision.class);

    private final AtomicReference<EngineFailure> failure = new AtomicReference<>();
    private final FatalErrorHandler handler;
    private final Runnable stop;

    /**
     * @param handler told once, after {@code stop}
     * @param stop what the engine does to stop firing and renewing its lease; must not wait for the failed thread
     */
    public Supervision(FatalErrorHandler handler, Runnable stop) {
        this.handler = Objects.requireNonNull(handler, "handler");
        this.stop = Objects.requireNonNull(stop, "stop");
    }

    @Override
    public void uncaughtException(Thread thread, Throwable error) {
        failed(thread.getName(), error);
    }

    /** Records the failure of {@code thread}; only the first failure stops the engine and reaches the handler. */
    public void failed(String thread, Throwable error) {
        // This process's wall clock, not the engine's: the engine's clock may be what failed.
        EngineFailure first = new EngineFailure(thread, error, SystemTime.wallClock().instant());
        if (!failure.compareAndSet(null, first)) {
            log.error("engine thread {} failed too (the engine had already failed): {}", thread, error.toString());
            return;
        }
        log.error("{}; this node stops firing jobs and renewing its lease (other nodes rescue its jobs when the "
                + "lease runs out); restart the process", first.describe(), error);
        try {
            stop.run();
        } catch (Throwable e) {
            log.error("could not stop the failed engine: {}", e.toString());
        }
        try {
            handler.engineFailed(first);
        } catch (RuntimeException e) {
            log.error("the fatal error handler failed: {}", e.toString());
        }
    }

    /** The first failure, if the engine has failed. */
    public Optional<EngineFailure> failure() {
        return Optional.ofNullable(failure.get());
    }

    /**
     * A periodic task that survives its own exceptions (logged; the next run tries again) and reports an
     * {@link Error} to this supervision, which an executor would otherwise keep in the task's future, unseen.
     */
    public Runnable supervised(String what, Runnable task) {
        return periodic(what, task, this);
    }

    /**
     * Like {@link #supervised}, for a periodic task outside an engine: an {@link Error} goes to the running thread's
     * uncaught-exception handler (the process's default one, unless the thread has its own), as it would if the
     * task ran on a thread of its own.
     */
    public static Runnable reportingErrors(String what, Runnable task) {
        return periodic(what, task, null);
    }

    /** {@code errors} null: the running thread's own handler. */
    private static Runnable periodic(String what, Runnable task, Thread.UncaughtExceptionHandler errors) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("{} failed; trying again next round", what, e);
            } catch (Error e) {
                Thread current = Thread.currentThread();
                (errors != null ? errors : current.getUncaughtExceptionHandler()).uncaughtException(current, e);
            }
        };
    }
}
