package dev.hourglass.store.jdbc;

import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ClaimDueParams;
import dev.hourglass.core.store.ClaimShareParams;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.PruneParams;
import dev.hourglass.core.store.ReleaseParams;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.RescueParams;
import dev.hourglass.core.store.RetryRequest;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.YieldParams;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * The values every SQL store can keep, checked element by element before a statement is touched, the same on every
 * store. A value outside them is refused with an {@link InvalidDataException} naming its field and its element's
 * position, so that a refused operation fails alone and before anything of its batch was bound: no statement is
 * left holding half a batch.
 *
 * <ul>
 *   <li>instants and durations are kept in 64-bit epoch milliseconds: beyond about 292 million years from 1970 they
 *       cannot be represented;</li>
 *   <li>text cannot contain U+0000: PostgreSQL refuses it (SQLState 22021), so SQLite refuses it too, so that a value
 *       is kept or refused alike on both stores;</li>
 *   <li>a job's last error is diagnostic text, never refused: its U+0000 become U+FFFD ({@link #diagnostic}), because
 *       refusing the outcome of a run would leave the job running with nobody to record it.</li>
 * </ul>
 */
public final class StoreValues {

    private StoreValues() {}

    /**
     * Checks each element of a batch with {@code check}; the first refused one is reported at its position.
     *
     * @throws InvalidDataException for the first element whose values the store cannot keep
     */
    public static <T> void checkEach(List<T> batch, Consumer<T> check) {
        for (int i = 0; i < batch.size(); i++) {
            try {
                check.accept(batch.get(i));
            } catch (InvalidDataException e) {
                throw e.at(i);
            }
        }
    }

    public static void insert(NewJob job) {
        text("tenant", job.tenant());
        text("handler", job.handler());
        text("target", job.target());
        instant("dueAt", job.dueAt());
        instant("createdAt", job.createdAt());
        duration("backoff", job.backoff().initial());
        duration("backoff", job.backoff().max());
        duration("timeout", job.timeout());
        text("idempotencyKey", job.idempotencyKey());
        text("owner", job.owner());
    }

    public static void start(StartRun run) {
        text("owner", run.owner());
        instant("now", run.now());
    }

    /** The next due time and owner only for a retry: a finish that ends the job keeps neither. */
    public static void finish(FinishRun run) {
        text("owner", run.owner());
        if (StoreTxRules.retry(run)) {
            instant("dueAt", run.dueAt());
            text("nextOwner", run.nextOwner());
        }
        instant("now", run.now());
        if (run.attempt() != null) {
            // The node and target are the engine's own names; the detail is a diagnostic, cleaned instead.
            text("attempt.node", run.attempt().node());
            text("attempt.target", run.attempt().target());
            instant("attempt.startedAt", run.attempt().startedAt());
            instant("attempt.finishedAt", run.attempt().finishedAt());
        }
    }

    public static void cancel(CancelRequest request) {
        text("tenant", request.tenant());
        instant("now", request.now());
    }

    public static void reschedule(RescheduleRequest request) {
        text("tenant", request.tenant());
        instant("dueAt", request.dueAt());
        text("owner", request.owner());
        instant("now", request.now());
    }

    public static void retryFailed(RetryRequest request) {
        text("tenant", request.tenant());
        instant("dueAt", request.dueAt());
        text("by", request.by());
        instant("now", request.now());
    }

    public static void claimDue(ClaimDueParams params) {
        single(() -> {
            text("owner", params.owner());
            instant("dueBefore", params.dueBefore());
            instant("now", params.now());
        });
    }

    public static void heartbeat(HeartbeatParams params) {
        single(() -> {
            text("node", params.node());
            instant("leaseUntil", params.leaseUntil());
            instant("now", params.now());
        });
    }

    public static void claimShare(ClaimShareParams params) {
        single(() -> {
            text("node", params.node());
            instant("dueBefore", params.dueBefore());
            instant("now", params.now());
        });
    }

    public static void yieldClaims(YieldParams params) {
        single(() -> {
            text("node", params.node());
            instant("keepThrough", params.keepThrough());
            instant("now", params.now());
        });
    }

    public static void release(ReleaseParams params) {
        single(() -> {
            text("node", params.node());
            instant("now", params.now());
        });
    }

    public static void rescue(RescueParams params) {
        single(() -> {
            text("rescuer", params.rescuer());
            instant("now", params.now());
            instant("now - presenceGrace", params.silentSince());
        });
    }

    public static void prune(PruneParams params) {
        single(() -> instant("finishedBefore", params.finishedBefore()));
    }

    /** {@code error} as the store keeps it: every U+0000 replaced by U+FFFD; null stays null. */
    public static String diagnostic(String error) {
        return error == null || error.indexOf('\0') < 0 ? error : error.replace('\0', '\uFFFD');
    }

    /** A method that takes one params record: its only element is at position 0. */
    private static void single(Runnable check) {
        try {
            check.run();
        } catch (InvalidDataException e) {
            throw e.at(0);
        }
    }

    private static void instant(String field, Instant instant) {
        if (instant == null) {
            return;
        }
        try {
            instant.toEpochMilli();
        } catch (ArithmeticException e) {
            throw new InvalidDataException(field, instant + " is outside the instants the store can keep "
                    + "(epoch milliseconds in 64 bits)", -1, null);
        }
    }

    private static void duration(String field, Duration duration) {
        if (duration == null) {
            return;
        }
        try {
            duration.toMillis();
        } catch (ArithmeticException e) {
            throw new InvalidDataException(field, duration + " is longer than the store can keep "
                    + "(milliseconds in 64 bits)", -1, null);
        }
    }

    private static void text(String field, String text) {
        if (text != null && text.indexOf('\0') >= 0) {
            throw new InvalidDataException(field, "must not contain U+0000 (NUL), which the store cannot keep in text",
                    -1, null);
        }
    }
}
