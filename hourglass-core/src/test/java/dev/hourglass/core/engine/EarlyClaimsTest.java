package dev.hourglass.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.time.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Announcements of jobs committed elsewhere become early claims on the loader's thread, coalesced. */
class EarlyClaimsTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
    private static final Duration HORIZON = Duration.ofSeconds(30);

    private final ManualClock clock = new ManualClock(T0);
    /** The loader's thread, run by hand: what it was asked to run, in order. */
    private final Queue<Runnable> loaderThread = new ArrayDeque<>();
    private final AtomicInteger claims = new AtomicInteger();
    private final EarlyClaims early = new EarlyClaims(clock, HORIZON, loaderThread::add, claims::incrementAndGet);

    private void runLoaderThread() {
        for (Runnable task; (task = loaderThread.poll()) != null; ) {
            task.run();
        }
    }

    @Test
    void aJobDueWithinTheHorizonIsClaimedOnTheLoadersThread() {
        early.announced(T0.plusSeconds(1));
        assertThat(claims).as("not on the announcing thread").hasValue(0);
        runLoaderThread();
        assertThat(claims).hasValue(1);
    }

    @Test
    void aJobDueBeyondTheHorizonIsLeftToTheRegularRounds() {
        early.announced(T0.plus(HORIZON).plusMillis(1));
        assertThat(loaderThread).isEmpty();
        early.announced(T0.plus(HORIZON)); // the horizon's end is inside it, as in the rounds' claims
        assertThat(loaderThread).hasSize(1);
    }

    @Test
    void aBurstWhileAClaimIsQueuedCostsOneClaim() {
        for (int i = 0; i < 100; i++) {
            early.announced(T0.plusMillis(i));
        }
        assertThat(loaderThread).hasSize(1);
        runLoaderThread();
        assertThat(claims).hasValue(1);
    }

    @Test
    void anAnnouncementAfterTheClaimStartedGetsAClaimOfItsOwn() {
        // The running claim may have read the store before the second job was committed: it needs another read.
        AtomicReference<EarlyClaims> self = new AtomicReference<>();
        self.set(new EarlyClaims(clock, HORIZON, loaderThread::add, () -> {
            if (claims.incrementAndGet() == 1) {
                self.get().announced(T0);
            }
        }));
        self.get().announced(T0);
        runLoaderThread();
        assertThat(claims).hasValue(2);
    }

    @Test
    void anEngineShuttingDownRefusesQuietlyAndLaterAnnouncementsAreTriedAgain() {
        AtomicInteger offered = new AtomicInteger();
        EarlyClaims closing = new EarlyClaims(clock, HORIZON, task -> {
            offered.incrementAndGet();
            throw new RejectedExecutionException("shut down");
        }, claims::incrementAndGet);
        closing.announced(T0);
        closing.announced(T0);
        assertThat(offered).as("a refused claim does not stay pending").hasValue(2);
        assertThat(claims).hasValue(0);
    }
}
