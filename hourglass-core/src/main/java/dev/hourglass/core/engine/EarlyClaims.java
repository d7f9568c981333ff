package dev.hourglass.core.engine;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Turns the store's announcements of jobs committed elsewhere (a caller's own transaction, see
 * {@link dev.hourglass.core.store.JobStore#onNewJobs}) into early horizon claims. Such a job is unowned, so without
 * this only the next regular round (up to one load interval later) would put it in a timer, and a job due sooner
 * would fire late.
 *
 * <p>Announcements arrive on the store's thread; the claim runs on the loader's own single thread, so it never
 * overlaps a round. Bursts coalesce: while a claim is queued and not yet started, further announcements add
 * nothing. That loses no job, because {@link #pending} is cleared before the claim reads the store, and a job is
 * announced only after its commit: an announcement that found a claim queued precedes that claim's read, which
 * therefore sees the job.
 */
final class EarlyClaims {
    private final InstantSource wallClock;
    private final Duration horizon;
    private final Executor loaderThread;
    private final Runnable claim;
    private final AtomicBoolean pending = new AtomicBoolean();

    /**
     * @param loaderThread the single thread that runs the loader's rounds
     * @param claim claims the horizon (the loader's {@code claimNow}); never throws
     */
    EarlyClaims(InstantSource wallClock, Duration horizon, Executor loaderThread, Runnable claim) {
        this.wallClock = wallClock;
        this.horizon = horizon;
        this.loaderThread = loaderThread;
        this.claim = claim;
    }

    /** Some job due at {@code dueAt} was committed unowned. Cheap; never throws. */
    void announced(Instant dueAt) {
        if (dueAt.isAfter(wallClock.instant().plus(horizon))) {
            return; // beyond the horizon: a regular round claims it when it comes near
        }
        if (!pending.compareAndSet(false, true)) {
            return;
        }
        try {
            loaderThread.execute(() -> {
                pending.set(false);
                claim.run();
            });
        } catch (RejectedExecutionException e) {
            pending.set(false); // shutting down: there is nothing left to claim for
        }
    }
}
