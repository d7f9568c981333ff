package dev.hourglass.store.testkit;

import static dev.hourglass.store.testkit.TestJobs.T0;
import static dev.hourglass.store.testkit.TestJobs.at;
import static dev.hourglass.store.testkit.TestJobs.hash;
import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.api.DeliveryAttempt;
import dev.hourglass.core.model.Backoff;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.AttemptRecord;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.Claim;
import dev.hourglass.core.store.ClaimDueParams;
import dev.hourglass.core.store.ClaimsOfParams;
import dev.hourglass.core.store.DeadLetterFilter;
import dev.hourglass.core.store.DueWindow;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.InvalidDataException;
import dev.hourglass.core.store.JobPage;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.PendingCount;
import dev.hourglass.core.store.PendingCountParams;
import dev.hourglass.core.store.PruneParams;
import dev.hourglass.core.store.ReleaseParams;
import dev.hourglass.core.store.RescheduleRequest;
import dev.hourglass.core.store.RescueParams;
import dev.hourglass.core.store.RetryRequest;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.store.StoreTx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite every {@link JobStore} passes. A store module extends this class on a real database and
 * implements {@link #openStore()}; the suite uses only the SPI. Time never passes by itself: every {@code now} is
 * an Instant built from {@link TestJobs#T0}, and nothing sleeps.
 *
 * <p>Protocol details this suite pins down (the engine relies on them):
 * <ul>
 *   <li>a claim, a cancel, a reschedule, a release and a rescue each increment the fencing token; a start and a
 *       finish keep it (the node already holds the claim). A job inserted with an owner has token 0. So after a retry
 *       that keeps the claim ({@code nextOwner} = the finishing node), the next start presents the same token; the
 *       engine must therefore record at most one outcome per attempt (a late second outcome of an earlier attempt
 *       would carry a token that is still valid);</li>
 *   <li>a job in a terminal state holds no claim (owner null);</li>
 *   <li>{@code rescueExpired} treats an owner that never sent a heartbeat as expired (it cannot renew), and never
 *       rescues the rescuer's own claims;</li>
 *   <li>if the work of {@link JobStore#write} throws, that same exception reaches the caller.</li>
 * </ul>
 */
public abstract class JobStoreContract {
    /** A W3C traceparent (the example of the specification). */
    protected static final String TRACE_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /** A fresh, empty store; the suite closes it after each test. */
    protected abstract JobStore openStore();

    /**
     * Sets a job's last delivery ({@code last_outcome}, {@code last_target}) in the store's database directly, as a
     * recorded attempt leaves them: what the dead-letter filters read.
     */
    protected abstract void setLastDelivery(JobId id, String outcome, String target);

    /** Who retried a job by hand and when, as the store's database holds them ({@code retried_by, retried_at}). */
    protected abstract Retried retried(JobId id);

    /** A job's {@code retried_at} (null: never) and {@code retried_by}. */
    public record Retried(Instant at, String by) {}

    protected JobStore store;

    @BeforeEach
    void openFreshStore() {
        store = openStore();
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // helpers

    protected <R> R fsync(Function<StoreTx, R> work) {
        return store.write(Durability.FSYNC, work);
    }

    protected <R> R lazy(Function<StoreTx, R> work) {
        return store.write(Durability.LAZY, work);
    }

    protected List<InsertResult> insert(NewJob... jobs) {
        return fsync(tx -> tx.insert(List.of(jobs)));
    }

    protected Job insertOne(NewJob newJob) {
        InsertResult result = insert(newJob).getFirst();
        assertThat(result).isInstanceOf(InsertResult.Created.class);
        return result.job();
    }

    protected Job get(JobId id) {
        return store.find(id).orElseThrow(() -> new AssertionError("job " + id + " not found"));
    }

    protected List<Job> claim(String owner, Instant dueBefore, int limit, Instant now) {
        return lazy(tx -> tx.claimDue(new ClaimDueParams(owner, dueBefore, limit, now)));
    }

    protected Optional<Job> start(JobId id, String owner, long token, Instant now) {
        return lazy(tx -> tx.start(List.of(new StartRun(id, owner, token, now)))).getFirst();
    }

    protected Optional<Job> start(Job claimed, Instant now) {
        return start(claimed.id(), claimed.owner(), claimed.fencingToken(), now);
    }

    protected boolean finish(Job running, JobState to, Instant dueAt, String nextOwner, String error, Instant now) {
        return lazy(tx -> tx.finish(List.of(new FinishRun(running.id(), running.owner(), running.fencingToken(), to,
                dueAt, nextOwner, error, now)))).getFirst();
    }

    protected boolean succeed(Job running, Instant now) {
        return finish(running, JobState.SUCCEEDED, null, null, null, now);
    }

    protected ChangeResult cancel(JobId id, String tenant, Instant now) {
        return fsync(tx -> tx.cancel(List.of(new CancelRequest(id, tenant, now)))).getFirst();
    }

    protected ChangeResult reschedule(JobId id, String tenant, Instant dueAt, String owner, Instant now) {
        return fsync(tx -> tx.reschedule(List.of(new RescheduleRequest(id, tenant, dueAt, owner, now)))).getFirst();
    }

    protected ChangeResult retryFailed(JobId id, String tenant, Instant dueAt, int freshAttempts, String by,
            Instant now) {
        return fsync(tx -> tx.retryFailed(List.of(new RetryRequest(id, tenant, dueAt, freshAttempts, by, now))))
                .getFirst();
    }

    /** A FAILED job: inserted, started by {@code node} and failed at {@code failedAt} with its only attempt. */
    protected Job failed(String node, TestJobs.Builder builder, Instant failedAt) {
        Job run = running(node, builder.maxAttempts(1), failedAt.minusSeconds(1));
        assertThat(finish(run, JobState.FAILED, null, null, "HTTP 503", failedAt)).isTrue();
        return get(run.id());
    }

    protected int rescue(Instant now, String rescuer, boolean allOtherNodes) {
        return lazy(tx -> tx.rescueExpired(new RescueParams(rescuer, now, allOtherNodes)));
    }

    protected int release(String node, Instant now) {
        return lazy(tx -> tx.release(new ReleaseParams(node, now)));
    }

    protected int prune(Instant finishedBefore, int limit) {
        return lazy(tx -> tx.pruneFinished(new PruneParams(finishedBefore, limit)));
    }

    /** Inserts a job already claimed by {@code node} (token 0) and starts it: a RUNNING job with attempts 1. */
    protected Job running(String node, TestJobs.Builder builder, Instant now) {
        Job inserted = insertOne(builder.owner(node).build());
        assertThat(inserted.fencingToken()).isZero();
        return start(inserted, now).orElseThrow();
    }

    protected List<Job> listAll(String tenant, JobState state, int pageSize) {
        List<Job> all = new ArrayList<>();
        JobId after = null;
        for (int pages = 0; ; pages++) {
            assertThat(pages).as("paging terminates").isLessThan(10_000);
            JobPage page = store.list(new JobQuery(tenant, state, after, pageSize));
            assertThat(page.jobs().size()).isLessThanOrEqualTo(pageSize);
            all.addAll(page.jobs());
            if (page.next() == null) {
                return all;
            }
            assertThat(page.jobs()).as("a page with a next cursor is not empty").isNotEmpty();
            assertThat(page.next()).isEqualTo(page.jobs().getLast().id());
            after = page.next();
        }
    }

    /** {@code size} bytes that differ from job to job (so a payload read for the wrong row shows). */
    protected static byte[] payloadOf(int size, int seed) {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
            payload[i] = (byte) (seed * 31 + i);
        }
        return payload;
    }

    protected static List<JobId> ids(List<Job> jobs) {
        return jobs.stream().map(Job::id).toList();
    }

    protected static void assertSameJob(Job actual, Job expected) {
        assertThat(actual).usingRecursiveComparison().isEqualTo(expected);
    }

    // ---------------------------------------------------------------------------------------------------------

    @Nested
    class InsertAndFind {

        @Test
        void roundTripsEveryField() {
            byte[] payload = {0, 1, 2, (byte) 0xFF, 127, -128, '{', '}'};
            NewJob newJob = job()
                    .tenant("acme-ü")
                    .handler("webhook")
                    .target("{\"url\":\"https://example.test/hook\",\"method\":\"POST\"}")
                    .payload(payload)
                    .dueAt(T0.plusMillis(1_234))
                    .createdAt(T0.minusMillis(5))
                    .maxAttempts(7)
                    .backoff(new Backoff(Duration.ofMillis(250), Duration.ofMinutes(10)))
                    .timeout(Duration.ofMillis(30_500))
                    .idempotency("order-42", hash("request-1"))
                    .traceParent(TRACE_PARENT)
                    .build();

            List<InsertResult> results = insert(newJob);

            assertThat(results).singleElement().isInstanceOf(InsertResult.Created.class);
            Job expected = newJob.toJob();
            assertSameJob(results.getFirst().job(), expected);
            Job found = get(newJob.id());
            assertSameJob(found, expected);
            // The same, spelled out, so a failure names the field.
            assertThat(found.id()).isEqualTo(newJob.id());
            assertThat(found.tenant()).isEqualTo("acme-ü");
            assertThat(found.handler()).isEqualTo("webhook");
            assertThat(found.target()).isEqualTo("{\"url\":\"https://example.test/hook\",\"method\":\"POST\"}");
            assertThat(found.payload()).containsExactly(payload);
            assertThat(found.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(found.dueAt()).isEqualTo(T0.plusMillis(1_234));
            assertThat(found.createdAt()).isEqualTo(T0.minusMillis(5));
            assertThat(found.updatedAt()).isEqualTo(T0.minusMillis(5));
            assertThat(found.attempts()).isZero();
            assertThat(found.maxAttempts()).isEqualTo(7);
            assertThat(found.backoff()).isEqualTo(new Backoff(Duration.ofMillis(250), Duration.ofMinutes(10)));
            assertThat(found.timeout()).isEqualTo(Duration.ofMillis(30_500));
            assertThat(found.idempotencyKey()).isEqualTo("order-42");
            assertThat(found.requestHash()).containsExactly(hash("request-1"));
            assertThat(found.lastError()).isNull();
            assertThat(found.owner()).isNull();
            assertThat(found.fencingToken()).isZero();
            assertThat(found.traceParent().header()).isEqualTo(TRACE_PARENT);
        }

        @Test
        void theTraceParentComesBackWithEveryClaimAndStart() {
            NewJob newJob = job().dueIn(1).traceParent(TRACE_PARENT).build();
            insertOne(newJob);

            Job claimed = claim("node-a", at(1), 10, at(0)).getFirst();
            Job run = start(claimed, at(1)).orElseThrow();

            assertThat(claimed.traceParent().header()).isEqualTo(TRACE_PARENT);
            assertThat(run.traceParent().header()).isEqualTo(TRACE_PARENT);
        }

        @Test
        void roundTripsNullAndEmptyFields() {
            NewJob newJob = job().target(null).payload(new byte[0]).timeout(null).idempotency(null, null).build();

            insertOne(newJob);

            Job found = get(newJob.id());
            assertSameJob(found, newJob.toJob());
            assertThat(found.target()).isNull();
            assertThat(found.payload()).isNotNull().isEmpty();
            assertThat(found.timeout()).isNull();
            assertThat(found.idempotencyKey()).isNull();
            assertThat(found.requestHash()).isNull();
            assertThat(found.traceParent()).isNull();
        }

        @Test
        void roundTripsALargeBinaryPayload() {
            byte[] payload = new byte[256 * 1024];
            new Random(42).nextBytes(payload);
            NewJob newJob = job().payload(payload).build();

            insertOne(newJob);

            assertThat(get(newJob.id()).payload()).isEqualTo(payload);
        }

        @Test
        void insertsABatchInOrder() {
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                batch.add(job().dueIn(i).payload("job " + i).build());
            }

            List<InsertResult> results = fsync(tx -> tx.insert(batch));

            assertThat(results).hasSize(50).allMatch(r -> r instanceof InsertResult.Created);
            for (int i = 0; i < 50; i++) {
                assertThat(results.get(i).job().id()).isEqualTo(batch.get(i).id());
                assertThat(get(batch.get(i).id()).payload()).isEqualTo(("job " + i).getBytes());
            }
        }

        @Test
        void aJobInsertedWithAnOwnerIsClaimedByIt() {
            NewJob newJob = job().owner("node-a").build();

            Job created = insertOne(newJob);

            assertThat(created.owner()).isEqualTo("node-a");
            assertThat(created.fencingToken()).isZero();
            assertThat(get(newJob.id()).owner()).isEqualTo("node-a");
        }

        @Test
        void findOfAnUnknownIdIsEmpty() {
            insertOne(job().build());

            assertThat(store.find(TestJobs.nextId())).isEmpty();
        }

        @Test
        void findNeedsBothHalvesOfTheId() {
            NewJob newJob = job().build();
            insertOne(newJob);

            JobId sameTimeOtherRandom = new JobId(newJob.id().hi(), newJob.id().lo() ^ 1);

            assertThat(store.find(sameTimeOtherRandom)).isEmpty();
        }
    }

    @Nested
    class Idempotency {

        @Test
        void sameKeyAndSameRequestIsADuplicateOfTheEarlierJob() {
            NewJob first = job().idempotency("k1", hash("a")).payload("first").build();
            NewJob retry = job().idempotency("k1", hash("a")).payload("first").build();
            insertOne(first);

            List<InsertResult> results = insert(retry);

            assertThat(results).singleElement().isInstanceOf(InsertResult.Duplicate.class);
            assertSameJob(results.getFirst().job(), get(first.id()));
            assertThat(store.find(retry.id())).isEmpty();
            assertThat(listAll(null, null, 100)).hasSize(1);
        }

        @Test
        void sameKeyAndDifferentRequestIsAConflict() {
            NewJob first = job().idempotency("k1", hash("a")).build();
            NewJob other = job().idempotency("k1", hash("b")).build();
            insertOne(first);

            List<InsertResult> results = insert(other);

            assertThat(results).singleElement().isInstanceOf(InsertResult.Conflict.class);
            assertThat(results.getFirst().job().id()).isEqualTo(first.id());
            assertThat(results.getFirst().job().requestHash()).isEqualTo(hash("a"));
            assertThat(store.find(other.id())).isEmpty();
        }

        @Test
        void theKeyIsScopedByTenant() {
            NewJob a = job().tenant("t1").idempotency("k1", hash("a")).build();
            NewJob b = job().tenant("t2").idempotency("k1", hash("a")).build();

            List<InsertResult> results = insert(a, b);

            assertThat(results).allMatch(r -> r instanceof InsertResult.Created);
            assertThat(get(a.id()).tenant()).isEqualTo("t1");
            assertThat(get(b.id()).tenant()).isEqualTo("t2");
        }

        @Test
        void duplicatesInsideOneBatchAreResolvedAgainstTheEarlierElement() {
            NewJob a = job().idempotency("k1", hash("a")).build();
            NewJob sameAsA = job().idempotency("k1", hash("a")).build();
            NewJob conflicting = job().idempotency("k1", hash("b")).build();
            NewJob noKey = job().build();
            NewJob otherKey = job().idempotency("k2", hash("a")).build();

            List<InsertResult> results = insert(a, sameAsA, conflicting, noKey, otherKey);

            assertThat(results).hasSize(5);
            assertThat(results.get(0)).isInstanceOf(InsertResult.Created.class);
            assertThat(results.get(1)).isInstanceOf(InsertResult.Duplicate.class);
            assertThat(results.get(1).job().id()).isEqualTo(a.id());
            assertThat(results.get(2)).isInstanceOf(InsertResult.Conflict.class);
            assertThat(results.get(2).job().id()).isEqualTo(a.id());
            assertThat(results.get(3)).isInstanceOf(InsertResult.Created.class);
            assertThat(results.get(4)).isInstanceOf(InsertResult.Created.class);
            assertThat(ids(listAll(null, null, 100))).containsExactly(a.id(), noKey.id(), otherKey.id());
        }

        @Test
        void jobsWithoutAKeyAreNeverDuplicates() {
            List<InsertResult> results = insert(job().build(), job().build());

            assertThat(results).allMatch(r -> r instanceof InsertResult.Created);
        }

        @Test
        void theKeyStaysTakenWhileTheJobIsKeptWhateverItsState() {
            NewJob first = job().idempotency("k1", hash("a")).build();
            insertOne(first);
            assertThat(cancel(first.id(), null, at(1))).isInstanceOf(ChangeResult.Changed.class);

            List<InsertResult> results = insert(job().idempotency("k1", hash("a")).build());

            assertThat(results.getFirst()).isInstanceOf(InsertResult.Duplicate.class);
            assertThat(results.getFirst().job().state()).isEqualTo(JobState.CANCELLED);
        }
    }

    @Nested
    class ClaimDue {

        @Test
        void claimsEarliestFirstUpToTheLimitAndDueTime() {
            NewJob due3 = job().dueIn(3).build();
            NewJob due1 = job().dueIn(1).build();
            NewJob due10 = job().dueIn(10).build();
            NewJob due5 = job().dueIn(5).build();
            NewJob due2 = job().dueIn(2).build();
            insert(due3, due1, due10, due5, due2);

            List<Job> first = claim("node-a", at(5), 2, at(0));

            assertThat(ids(first)).containsExactly(due1.id(), due2.id());
            assertThat(first).allSatisfy(j -> {
                assertThat(j.owner()).isEqualTo("node-a");
                assertThat(j.fencingToken()).isEqualTo(1);
                assertThat(j.state()).isEqualTo(JobState.SCHEDULED);
                assertThat(j.updatedAt()).isEqualTo(at(0));
            });
            assertSameJob(get(due1.id()), first.getFirst());

            List<Job> second = claim("node-b", at(5), 10, at(0));
            assertThat(ids(second)).as("due time is inclusive").containsExactly(due3.id(), due5.id());
            assertThat(claim("node-b", at(5), 10, at(0))).isEmpty();
            assertThat(ids(claim("node-b", at(10), 10, at(0)))).containsExactly(due10.id());
            assertThat(get(due1.id()).owner()).as("earlier claims are kept").isEqualTo("node-a");
        }

        @Test
        void returnsJobsSortedByDueTimeForALargeClaim() {
            List<NewJob> batch = new ArrayList<>();
            Random random = new Random(7);
            for (int i = 0; i < 300; i++) {
                batch.add(job().dueAt(T0.plusMillis(random.nextInt(100_000))).build());
            }
            fsync(tx -> tx.insert(batch));

            List<Job> claimed = claim("node-a", at(1_000), 1_000, at(0));

            assertThat(claimed).hasSize(300);
            assertThat(claimed).isSortedAccordingTo(Comparator.comparing(Job::dueAt));
        }

        @Test
        void skipsOwnedRunningAndTerminalJobs() {
            Job runningJob = running("node-x", job(), at(0));
            Job succeededJob = running("node-x", job(), at(0));
            assertThat(succeed(succeededJob, at(0))).isTrue();
            Job failedJob = running("node-x", job(), at(0));
            assertThat(finish(failedJob, JobState.FAILED, null, null, "boom", at(0))).isTrue();
            NewJob cancelled = job().build();
            insertOne(cancelled);
            assertThat(cancel(cancelled.id(), null, at(0))).isInstanceOf(ChangeResult.Changed.class);
            NewJob ownedByA = job().owner("node-a").build();
            NewJob free = job().build();
            insert(ownedByA, free);

            List<Job> claimed = claim("node-b", at(100), 100, at(1));

            assertThat(ids(claimed)).containsExactly(free.id());
            assertThat(get(runningJob.id()).state()).isEqualTo(JobState.RUNNING);
            assertThat(get(runningJob.id()).owner()).isEqualTo("node-x");
            assertThat(get(ownedByA.id()).owner()).isEqualTo("node-a");
            assertThat(get(ownedByA.id()).fencingToken()).isZero();
        }

        @Test
        void everyClaimIncrementsTheFencingToken() {
            NewJob newJob = job().build();
            insertOne(newJob);

            Job firstClaim = claim("node-a", at(0), 1, at(0)).getFirst();
            assertThat(firstClaim.fencingToken()).isEqualTo(1);
            assertThat(reschedule(newJob.id(), null, at(0), null, at(1))).isInstanceOf(ChangeResult.Changed.class);
            Job secondClaim = claim("node-b", at(0), 1, at(2)).getFirst();

            assertThat(secondClaim.fencingToken()).isEqualTo(3);
            assertThat(secondClaim.owner()).isEqualTo("node-b");
            assertThat(start(firstClaim, at(3))).as("the first claim is stale").isEmpty();
            assertThat(start(secondClaim, at(3))).isPresent();
        }

        @Test
        void aJobInsertedWithAnOwnerIsNotClaimableByOthersButStartableByItsOwner() {
            NewJob newJob = job().owner("node-a").build();
            insertOne(newJob);

            assertThat(claim("node-b", at(10), 10, at(0))).isEmpty();
            assertThat(claim("node-a", at(10), 10, at(0))).as("not even by its owner: it holds it already").isEmpty();

            Optional<Job> started = start(newJob.id(), "node-a", 0, at(1));
            assertThat(started).isPresent();
            assertThat(started.get().state()).isEqualTo(JobState.RUNNING);
        }

        @Test
        void anEmptyStoreClaimsNothing() {
            assertThat(claim("node-a", at(100), 10, at(0))).isEmpty();
        }
    }

    @Nested
    class Start {

        @Test
        void movesAClaimedJobToRunningAndCountsTheAttempt() {
            NewJob newJob = job().dueIn(1).build();
            insertOne(newJob);
            Job claimed = claim("node-a", at(1), 1, at(0)).getFirst();

            Optional<Job> started = start(claimed, at(2));

            assertThat(started).isPresent();
            Job job = started.get();
            assertThat(job.state()).isEqualTo(JobState.RUNNING);
            assertThat(job.attempts()).isEqualTo(1);
            assertThat(job.owner()).isEqualTo("node-a");
            assertThat(job.fencingToken()).as("start keeps the token").isEqualTo(claimed.fencingToken());
            assertThat(job.updatedAt()).isEqualTo(at(2));
            assertThat(job.dueAt()).isEqualTo(at(1));
            assertSameJob(get(newJob.id()), job);
        }

        @Test
        void isACompareAndSetOnStateOwnerAndToken() {
            NewJob a = job().build();
            NewJob cancelled = job().build();
            insert(a, cancelled);
            List<Job> claimed = claim("node-a", at(0), 10, at(0));
            Job claimA = claimed.stream().filter(j -> j.id().equals(a.id())).findFirst().orElseThrow();
            Job claimCancelled = claimed.stream().filter(j -> j.id().equals(cancelled.id())).findFirst().orElseThrow();
            assertThat(cancel(cancelled.id(), null, at(1))).isInstanceOf(ChangeResult.Changed.class);

            List<Optional<Job>> results = lazy(tx -> tx.start(List.of(
                    new StartRun(a.id(), "node-b", claimA.fencingToken(), at(2)),
                    new StartRun(a.id(), "node-a", claimA.fencingToken() - 1, at(2)),
                    new StartRun(a.id(), "node-a", claimA.fencingToken() + 1, at(2)),
                    new StartRun(cancelled.id(), "node-a", claimCancelled.fencingToken(), at(2)),
                    new StartRun(TestJobs.nextId(), "node-a", 1, at(2)),
                    new StartRun(a.id(), "node-a", claimA.fencingToken(), at(2)),
                    new StartRun(a.id(), "node-a", claimA.fencingToken(), at(2)))));

            assertThat(results).hasSize(7);
            assertThat(results.get(0)).as("wrong owner").isEmpty();
            assertThat(results.get(1)).as("stale token").isEmpty();
            assertThat(results.get(2)).as("future token").isEmpty();
            assertThat(results.get(3)).as("cancelled").isEmpty();
            assertThat(results.get(4)).as("unknown id").isEmpty();
            assertThat(results.get(5)).as("the holder").isPresent();
            assertThat(results.get(6)).as("a second start of the same claim").isEmpty();
            assertThat(get(a.id()).attempts()).isEqualTo(1);
            assertThat(get(cancelled.id()).state()).isEqualTo(JobState.CANCELLED);
        }

        @Test
        void anUnownedJobCannotBeStarted() {
            NewJob newJob = job().build();
            insertOne(newJob);

            assertThat(start(newJob.id(), "node-a", 0, at(1))).isEmpty();
            assertThat(get(newJob.id()).state()).isEqualTo(JobState.SCHEDULED);
        }
    }

    @Nested
    class Finish {

        @Test
        void succeeds() {
            Job run = running("node-a", job().payload("p"), at(1));

            assertThat(succeed(run, at(2))).isTrue();

            Job job = get(run.id());
            assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(job.attempts()).isEqualTo(1);
            assertThat(job.updatedAt()).isEqualTo(at(2));
            assertThat(job.owner()).as("a terminal job holds no claim").isNull();
            assertThat(job.payload()).isEqualTo("p".getBytes());
        }

        @Test
        void retriesKeepingTheClaim() {
            Job run = running("node-a", job(), at(1));

            assertThat(finish(run, JobState.SCHEDULED, at(30), "node-a", "HTTP 503", at(2))).isTrue();

            Job job = get(run.id());
            assertThat(job.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(job.dueAt()).isEqualTo(at(30));
            assertThat(job.owner()).isEqualTo("node-a");
            assertThat(job.attempts()).isEqualTo(1);
            assertThat(job.lastError()).isEqualTo("HTTP 503");
            assertThat(job.updatedAt()).isEqualTo(at(2));
            assertThat(job.fencingToken()).as("a finish keeps the token").isEqualTo(run.fencingToken());
            assertThat(claim("node-b", at(100), 10, at(3))).as("still claimed by node-a").isEmpty();
            assertThat(start(run.id(), "node-b", run.fencingToken(), at(30))).as("another node").isEmpty();

            Optional<Job> second = start(run.id(), "node-a", run.fencingToken(), at(30));
            assertThat(second).isPresent();
            assertThat(second.get().attempts()).isEqualTo(2);
            assertThat(succeed(second.get(), at(31))).isTrue();
        }

        @Test
        void retriesHandingTheClaimBack() {
            Job run = running("node-a", job(), at(1));

            assertThat(finish(run, JobState.SCHEDULED, at(30), null, "timeout", at(2))).isTrue();

            Job job = get(run.id());
            assertThat(job.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(job.owner()).isNull();
            assertThat(claim("node-b", at(29), 10, at(3))).as("not due yet").isEmpty();
            List<Job> claimed = claim("node-b", at(30), 10, at(3));
            assertThat(ids(claimed)).containsExactly(run.id());
            assertThat(claimed.getFirst().attempts()).isEqualTo(1);
        }

        @Test
        void failsWithTheLastError() {
            Job run = running("node-a", job().maxAttempts(1), at(1));

            assertThat(finish(run, JobState.FAILED, null, null, "HTTP 400: bad request", at(2))).isTrue();

            Job job = get(run.id());
            assertThat(job.state()).isEqualTo(JobState.FAILED);
            assertThat(job.lastError()).isEqualTo("HTTP 400: bad request");
            assertThat(job.attempts()).isEqualTo(1);
            assertThat(job.owner()).isNull();
            assertThat(claim("node-b", at(100), 10, at(3))).isEmpty();
        }

        @Test
        void theHandlerMayCancelItsOwnRun() {
            Job run = running("node-a", job(), at(1));

            assertThat(finish(run, JobState.CANCELLED, null, null, null, at(2))).isTrue();

            assertThat(get(run.id()).state()).isEqualTo(JobState.CANCELLED);
        }

        @Test
        void rejectsAStaleTokenOrAnotherOwner() {
            Job run = running("node-a", job(), at(1));

            List<Boolean> results = lazy(tx -> tx.finish(List.of(
                    new FinishRun(run.id(), "node-a", run.fencingToken() - 1, JobState.SUCCEEDED, null, null, null,
                            at(2)),
                    new FinishRun(run.id(), "node-b", run.fencingToken(), JobState.SUCCEEDED, null, null, null, at(2)),
                    new FinishRun(TestJobs.nextId(), "node-a", 0, JobState.SUCCEEDED, null, null, null, at(2)))));

            assertThat(results).containsExactly(false, false, false);
            Job job = get(run.id());
            assertThat(job.state()).isEqualTo(JobState.RUNNING);
            assertThat(job.updatedAt()).isEqualTo(at(1));
        }

        @Test
        void aBatchFinishesEachRunOnce() {
            Job a = running("node-a", job(), at(1));
            Job b = running("node-a", job(), at(1));

            List<Boolean> results = lazy(tx -> tx.finish(List.of(
                    new FinishRun(a.id(), "node-a", a.fencingToken(), JobState.SUCCEEDED, null, null, null, at(2)),
                    new FinishRun(a.id(), "node-a", a.fencingToken(), JobState.FAILED, null, null, "late", at(2)),
                    new FinishRun(b.id(), "node-a", b.fencingToken(), JobState.SCHEDULED, at(9), null, "e", at(2)))));

            assertThat(results).containsExactly(true, false, true);
            assertThat(get(a.id()).state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(get(b.id()).state()).isEqualTo(JobState.SCHEDULED);
        }

        @Test
        void rejectsAClaimLostToAnotherNode() {
            Job run = running("node-a", job(), at(1));
            assertThat(release("node-a", at(2))).isEqualTo(1);
            Job reclaimed = claim("node-b", at(2), 10, at(2)).getFirst();
            Job rerun = start(reclaimed, at(2)).orElseThrow();

            assertThat(succeed(run, at(3))).isFalse();

            Job job = get(run.id());
            assertThat(job.state()).isEqualTo(JobState.RUNNING);
            assertThat(job.owner()).isEqualTo("node-b");
            assertThat(job.attempts()).isEqualTo(2);
            assertThat(succeed(rerun, at(4))).isTrue();
        }

        @Test
        void aTransitionTheTableForbidsCannotBeForced() {
            NewJob newJob = job().owner("node-a").build();
            insertOne(newJob);

            boolean finishedWhileScheduled = lazy(tx -> tx.finish(List.of(
                    new FinishRun(newJob.id(), "node-a", 0, JobState.SUCCEEDED, null, null, null, at(1))))).getFirst();

            assertThat(finishedWhileScheduled).isFalse();
            assertThat(get(newJob.id()).state()).isEqualTo(JobState.SCHEDULED);

            Job run = start(newJob.id(), "node-a", 0, at(2)).orElseThrow();
            assertThat(succeed(run, at(3))).isTrue();
            assertThat(succeed(run, at(4))).as("SUCCEEDED is final").isFalse();
            assertThat(start(run.id(), "node-a", run.fencingToken() + 1, at(5))).isEmpty();
            assertThat(cancel(run.id(), null, at(5))).isInstanceOf(ChangeResult.WrongState.class);
            assertThat(get(run.id()).state()).isEqualTo(JobState.SUCCEEDED);
        }

        @Test
        void aRunCannotFinishInRunning() {
            Job run = running("node-a", job(), at(1));

            assertThatThrownBy(() -> lazy(tx -> tx.finish(List.of(new FinishRun(run.id(), "node-a",
                    run.fencingToken(), JobState.RUNNING, null, null, null, at(2))))))
                    .isInstanceOf(IllegalArgumentException.class);

            assertSameJob(get(run.id()), run);
        }
    }

    @Nested
    class DeliveryHistory {

        private AttemptRecord attempt(Job run, DeliveryAttempt.Result outcome, int status, String detail, int second) {
            return new AttemptRecord(run.attempts(), run.owner(), at(second), at(second + 1), outcome, status,
                    "https://receiver.example:443", detail, Duration.ofMillis(1_234));
        }

        private boolean finishRecording(Job run, JobState to, Instant dueAt, String error, AttemptRecord attempt) {
            return lazy(tx -> tx.finish(List.of(new FinishRun(run.id(), run.owner(), run.fencingToken(), to, dueAt,
                    to == JobState.SCHEDULED ? run.owner() : null, error, attempt.finishedAt(), run.tenant(),
                    attempt)))).getFirst();
        }

        @Test
        void keepsEveryRecordedAttemptInOrder() {
            Job first = running("node-a", job(), at(1));
            AttemptRecord failed = attempt(first, DeliveryAttempt.Result.HTTP_ERROR, 503, "HTTP 503: busy", 1);
            assertThat(finishRecording(first, JobState.SCHEDULED, at(30), "HTTP 503: busy", failed)).isTrue();
            Job second = start(first.id(), "node-a", first.fencingToken(), at(30)).orElseThrow();
            AttemptRecord delivered = attempt(second, DeliveryAttempt.Result.SUCCESS, 200, null, 30);
            assertThat(finishRecording(second, JobState.SUCCEEDED, null, null, delivered)).isTrue();

            assertThat(store.attempts(first.id(), 0, 10)).containsExactly(failed, delivered);
            assertThat(store.attempts(first.id(), 1, 10)).as("after attempt 1").containsExactly(delivered);
            assertThat(store.attempts(first.id(), 0, 1)).as("a page of one").containsExactly(failed);
            assertThat(store.attempts(TestJobs.nextId(), 0, 10)).as("no such job").isEmpty();
        }

        @Test
        void keepsAnAttemptWithNoStatusNoTargetAndNoDetail() {
            Job run = running("node-a", job(), at(1));
            AttemptRecord timedOut = new AttemptRecord(1, "node-a", at(1), at(2), DeliveryAttempt.Result.TIMEOUT, 0,
                    null, null, Duration.ZERO);
            assertThat(finishRecording(run, JobState.SCHEDULED, at(9), "timed out", timedOut)).isTrue();

            assertThat(store.attempts(run.id(), 0, 10)).containsExactly(timedOut);
        }

        @Test
        void recordsNothingForALostFinishOrOneWithoutAnAttempt() {
            Job run = running("node-a", job(), at(1));
            AttemptRecord stale = attempt(run, DeliveryAttempt.Result.SUCCESS, 200, null, 1);

            List<Boolean> results = lazy(tx -> tx.finish(List.of(
                    new FinishRun(run.id(), "node-a", run.fencingToken() - 1, JobState.SUCCEEDED, null, null, null,
                            at(2), run.tenant(), stale),
                    new FinishRun(run.id(), "node-b", run.fencingToken(), JobState.SUCCEEDED, null, null, null,
                            at(2), run.tenant(), stale))));
            assertThat(results).containsExactly(false, false);
            assertThat(store.attempts(run.id(), 0, 10)).as("the history holds only attempts whose end is recorded")
                    .isEmpty();

            assertThat(succeed(run, at(3))).isTrue();
            assertThat(store.attempts(run.id(), 0, 10)).as("a finish without an attempt").isEmpty();
        }

        @Test
        void recordsOnlyTheWinnerOfABatch() {
            Job a = running("node-a", job(), at(1));
            Job b = running("node-a", job(), at(1));
            AttemptRecord ofA = attempt(a, DeliveryAttempt.Result.SUCCESS, 204, null, 1);
            AttemptRecord ofB = attempt(b, DeliveryAttempt.Result.CONNECT_ERROR, 0, "connection refused", 1);

            List<Boolean> results = lazy(tx -> tx.finish(List.of(
                    new FinishRun(a.id(), "node-a", a.fencingToken(), JobState.SUCCEEDED, null, null, null, at(2),
                            a.tenant(), ofA),
                    new FinishRun(a.id(), "node-a", a.fencingToken(), JobState.FAILED, null, null, "late", at(2),
                            a.tenant(), ofA),
                    new FinishRun(b.id(), "node-a", b.fencingToken(), JobState.FAILED, null, null,
                            "connection refused", at(2), b.tenant(), ofB))));

            assertThat(results).containsExactly(true, false, true);
            assertThat(store.attempts(a.id(), 0, 10)).containsExactly(ofA);
            assertThat(store.attempts(b.id(), 0, 10)).containsExactly(ofB);
        }

        @Test
        void cleansWhatTheStoreCannotKeepInText() {
            Job run = running("node-a", job(), at(1));
            AttemptRecord withNul = attempt(run, DeliveryAttempt.Result.HTTP_ERROR, 500, "HTTP 500: a\0b", 1);
            assertThat(finishRecording(run, JobState.FAILED, null, "HTTP 500", withNul)).isTrue();

            assertThat(store.attempts(run.id(), 0, 10).getFirst().detail()).isEqualTo("HTTP 500: a\uFFFDb");
        }

        @Test
        void followsTheJobsRetention() {
            Job pruned = running("node-a", job(), at(1));
            Job kept = running("node-a", job(), at(1));
            assertThat(finishRecording(pruned, JobState.SUCCEEDED, null, null,
                    attempt(pruned, DeliveryAttempt.Result.SUCCESS, 200, null, 1))).isTrue();
            assertThat(finishRecording(kept, JobState.SUCCEEDED, null, null,
                    attempt(kept, DeliveryAttempt.Result.SUCCESS, 200, null, 100))).isTrue();

            assertThat(prune(at(50), 10)).isEqualTo(1);

            assertThat(store.find(pruned.id())).isEmpty();
            assertThat(store.attempts(pruned.id(), 0, 10)).as("deleted with its job").isEmpty();
            assertThat(store.attempts(kept.id(), 0, 10)).hasSize(1);
        }
    }

    @Nested
    class Cancel {

        @Test
        void cancelsAScheduledJobWhoeverOwnsIt() {
            NewJob free = job().build();
            NewJob owned = job().owner("node-a").build();
            insert(free, owned);

            List<ChangeResult> results = fsync(tx -> tx.cancel(List.of(
                    new CancelRequest(free.id(), "t1", at(1)), new CancelRequest(owned.id(), null, at(1)))));

            assertThat(results).allSatisfy(r -> {
                assertThat(r).isInstanceOf(ChangeResult.Changed.class);
                Job job = ((ChangeResult.Changed) r).job();
                assertThat(job.state()).isEqualTo(JobState.CANCELLED);
                assertThat(job.updatedAt()).isEqualTo(at(1));
                assertThat(job.owner()).isNull();
            });
            assertThat(get(free.id()).state()).isEqualTo(JobState.CANCELLED);
            assertThat(start(owned.id(), "node-a", 0, at(2))).as("the owner's start loses").isEmpty();
        }

        @Test
        void aRunningOrFinishedJobIsInTheWrongState() {
            Job run = running("node-a", job(), at(1));
            Job done = running("node-a", job(), at(1));
            assertThat(succeed(done, at(2))).isTrue();

            ChangeResult runningResult = cancel(run.id(), null, at(3));
            ChangeResult doneResult = cancel(done.id(), "t1", at(3));

            assertThat(runningResult).isInstanceOf(ChangeResult.WrongState.class);
            assertThat(((ChangeResult.WrongState) runningResult).job().state()).isEqualTo(JobState.RUNNING);
            assertThat(doneResult).isInstanceOf(ChangeResult.WrongState.class);
            assertThat(((ChangeResult.WrongState) doneResult).job().state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(get(run.id()).state()).isEqualTo(JobState.RUNNING);
        }

        @Test
        void anUnknownIdOrAnotherTenantsJobIsNotFound() {
            NewJob newJob = job().tenant("t1").build();
            insertOne(newJob);

            assertThat(cancel(TestJobs.nextId(), null, at(1))).isInstanceOf(ChangeResult.NotFound.class);
            assertThat(cancel(newJob.id(), "t2", at(1))).isInstanceOf(ChangeResult.NotFound.class);
            assertThat(get(newJob.id()).state()).isEqualTo(JobState.SCHEDULED);
        }

        @Test
        void cancellingTwiceInOneBatchChangesOnce() {
            NewJob newJob = job().build();
            insertOne(newJob);

            List<ChangeResult> results = fsync(tx -> tx.cancel(List.of(
                    new CancelRequest(newJob.id(), null, at(1)), new CancelRequest(newJob.id(), null, at(1)))));

            assertThat(results.get(0)).isInstanceOf(ChangeResult.Changed.class);
            assertThat(results.get(1)).isInstanceOf(ChangeResult.WrongState.class);
        }

        @Test
        void cancelBeforeStartInOneTransactionCancelWins() {
            NewJob newJob = job().build();
            insertOne(newJob);
            Job claimed = claim("node-a", at(0), 1, at(0)).getFirst();

            record Outcome(ChangeResult cancel, Optional<Job> start) {}
            Outcome outcome = fsync(tx -> {
                ChangeResult c = tx.cancel(List.of(new CancelRequest(newJob.id(), null, at(1)))).getFirst();
                Optional<Job> s = tx.start(List.of(new StartRun(newJob.id(), "node-a", claimed.fencingToken(),
                        at(1)))).getFirst();
                return new Outcome(c, s);
            });

            assertThat(outcome.cancel()).isInstanceOf(ChangeResult.Changed.class);
            assertThat(outcome.start()).isEmpty();
            assertThat(get(newJob.id()).state()).isEqualTo(JobState.CANCELLED);
        }

        @Test
        void startBeforeCancelInOneTransactionStartWins() {
            NewJob newJob = job().build();
            insertOne(newJob);
            Job claimed = claim("node-a", at(0), 1, at(0)).getFirst();

            record Outcome(Optional<Job> start, ChangeResult cancel) {}
            Outcome outcome = fsync(tx -> {
                Optional<Job> s = tx.start(List.of(new StartRun(newJob.id(), "node-a", claimed.fencingToken(),
                        at(1)))).getFirst();
                ChangeResult c = tx.cancel(List.of(new CancelRequest(newJob.id(), null, at(1)))).getFirst();
                return new Outcome(s, c);
            });

            assertThat(outcome.start()).isPresent();
            assertThat(outcome.cancel()).isInstanceOf(ChangeResult.WrongState.class);
            assertThat(get(newJob.id()).state()).isEqualTo(JobState.RUNNING);
        }
    }

    @Nested
    class Reschedule {

        @Test
        void movesTheDueTimeAndInvalidatesTheOldClaim() {
            NewJob newJob = job().dueIn(1).build();
            insertOne(newJob);
            Job claimed = claim("node-a", at(1), 1, at(0)).getFirst();

            ChangeResult result = reschedule(newJob.id(), "t1", at(60), null, at(2));

            assertThat(result).isInstanceOf(ChangeResult.Changed.class);
            Job job = ((ChangeResult.Changed) result).job();
            assertThat(job.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(job.dueAt()).isEqualTo(at(60));
            assertThat(job.owner()).isNull();
            assertThat(job.fencingToken()).isEqualTo(claimed.fencingToken() + 1);
            assertThat(job.updatedAt()).isEqualTo(at(2));
            assertSameJob(get(newJob.id()), job);
            assertThat(start(claimed, at(3))).as("the old claim is stale").isEmpty();
            assertThat(claim("node-b", at(59), 10, at(3))).isEmpty();
            assertThat(ids(claim("node-b", at(60), 10, at(3)))).containsExactly(newJob.id());
        }

        @Test
        void mayHandTheJobToANewOwner() {
            NewJob newJob = job().dueIn(100).build();
            insertOne(newJob);

            ChangeResult result = reschedule(newJob.id(), null, at(5), "node-b", at(1));

            Job job = ((ChangeResult.Changed) result).job();
            assertThat(job.owner()).isEqualTo("node-b");
            assertThat(job.fencingToken()).isEqualTo(1);
            assertThat(claim("node-a", at(100), 10, at(2))).isEmpty();
            assertThat(start(job, at(5))).isPresent();
        }

        @Test
        void onlyAScheduledJobOfTheTenantCanBeRescheduled() {
            Job run = running("node-a", job().tenant("t1"), at(1));
            NewJob scheduled = job().tenant("t1").build();
            insertOne(scheduled);

            assertThat(reschedule(run.id(), null, at(9), null, at(2))).isInstanceOf(ChangeResult.WrongState.class);
            assertThat(reschedule(scheduled.id(), "t2", at(9), null, at(2))).isInstanceOf(ChangeResult.NotFound.class);
            assertThat(reschedule(TestJobs.nextId(), null, at(9), null, at(2)))
                    .isInstanceOf(ChangeResult.NotFound.class);
            assertThat(get(scheduled.id()).dueAt()).isEqualTo(T0);
            assertSameJob(get(run.id()), run);
        }
    }

    /** {@code Transition.RETRY_BY_HAND}: an operator sends a FAILED job round again. */
    @Nested
    class RetryByHand {

        @Test
        void aFailedJobIsScheduledAgainWithFreshAttemptsItsNumbersContinuing() {
            Job dead = failed("node-a", job().tenant("t1"), at(2));
            assertThat(dead.attempts()).isEqualTo(1);

            ChangeResult result = retryFailed(dead.id(), "t1", at(10), 3, "ops@example", at(5));

            assertThat(result).isInstanceOf(ChangeResult.Changed.class);
            Job job = ((ChangeResult.Changed) result).job();
            assertThat(job.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(job.dueAt()).isEqualTo(at(10));
            assertThat(job.owner()).isNull();
            assertThat(job.attempts()).as("the used attempts are kept").isEqualTo(1);
            assertThat(job.maxAttempts()).isEqualTo(1 + 3);
            assertThat(job.fencingToken()).isEqualTo(dead.fencingToken() + 1);
            assertThat(job.lastError()).as("kept until an attempt replaces it").isEqualTo("HTTP 503");
            assertThat(job.updatedAt()).isEqualTo(at(5));
            assertSameJob(get(dead.id()), job);
            assertThat(retried(dead.id())).isEqualTo(new Retried(at(5), "ops@example"));

            assertThat(claim("node-b", at(9), 10, at(6))).as("not due yet").isEmpty();
            Job claimed = claim("node-b", at(10), 10, at(6)).getFirst();
            assertThat(claimed.id()).isEqualTo(dead.id());
            Job second = start(claimed, at(10)).orElseThrow();
            assertThat(second.attempts()).as("the next attempt is number 2").isEqualTo(2);
            assertThat(second.attemptsExhausted()).isFalse();
            assertThat(succeed(second, at(11))).isTrue();
            assertThat(get(dead.id()).state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(prune(at(11), 10)).as("finished again, at 11: kept until then").isZero();
            assertThat(prune(at(12), 10)).isEqualTo(1);
        }

        @Test
        void aRetriedJobHasNoFinishTimeUntilItFinishesAgain() {
            Job dead = failed("node-a", job(), at(2));
            assertThat(retryFailed(dead.id(), null, at(3), 1, null, at(3))).isInstanceOf(ChangeResult.Changed.class);

            assertThat(prune(at(100), 10)).as("a SCHEDULED job is never pruned").isZero();
            assertThat(retried(dead.id())).isEqualTo(new Retried(at(3), null));
        }

        @Test
        void onlyAFailedJobCanBeRetried() {
            NewJob scheduled = job().build();
            insertOne(scheduled);
            Job run = running("node-a", job(), at(1));
            Job done = running("node-a", job(), at(1));
            assertThat(succeed(done, at(2))).isTrue();
            NewJob cancelled = job().build();
            insertOne(cancelled);
            assertThat(cancel(cancelled.id(), null, at(2))).isInstanceOf(ChangeResult.Changed.class);

            for (JobId id : List.of(scheduled.id(), run.id(), done.id(), cancelled.id())) {
                Job before = get(id);
                ChangeResult result = retryFailed(id, null, at(5), 2, "ops", at(5));
                assertThat(result).as(before.state().name()).isInstanceOfSatisfying(ChangeResult.WrongState.class,
                        wrong -> assertSameJob(wrong.job(), before));
                assertSameJob(get(id), before);
                assertThat(retried(id)).isEqualTo(new Retried(null, null));
            }
        }

        @Test
        void anUnknownIdOrAnotherTenantsJobIsNotFound() {
            Job dead = failed("node-a", job().tenant("t1"), at(2));

            assertThat(retryFailed(dead.id(), "t2", at(5), 1, "t2", at(5))).isInstanceOf(ChangeResult.NotFound.class);
            assertThat(retryFailed(TestJobs.nextId(), null, at(5), 1, null, at(5)))
                    .isInstanceOf(ChangeResult.NotFound.class);
            assertSameJob(get(dead.id()), dead);
            assertThat(retryFailed(dead.id(), null, at(5), 1, "admin", at(5)))
                    .as("an operator's retry (any tenant)").isInstanceOf(ChangeResult.Changed.class);
        }

        @Test
        void retryingTwiceInOneBatchChangesOnce() {
            Job dead = failed("node-a", job(), at(2));

            List<ChangeResult> results = fsync(tx -> tx.retryFailed(List.of(
                    new RetryRequest(dead.id(), null, at(5), 2, "a", at(5)),
                    new RetryRequest(dead.id(), null, at(6), 4, "b", at(6)))));

            assertThat(results.get(0)).isInstanceOf(ChangeResult.Changed.class);
            assertThat(results.get(1)).isInstanceOfSatisfying(ChangeResult.WrongState.class,
                    wrong -> assertThat(wrong.job().state()).isEqualTo(JobState.SCHEDULED));
            assertThat(get(dead.id()).maxAttempts()).isEqualTo(3);
            assertThat(retried(dead.id())).isEqualTo(new Retried(at(5), "a"));
        }

        @Test
        void aBatchRetriesEachJobOfTheTenantAndAnswersInOrder() {
            Job a = failed("node-a", job().tenant("t1"), at(2));
            Job other = failed("node-a", job().tenant("t2"), at(2));
            Job b = failed("node-a", job().tenant("t1"), at(3));

            List<ChangeResult> results = fsync(tx -> tx.retryFailed(List.of(
                    new RetryRequest(a.id(), "t1", at(5), 1, "t1", at(5)),
                    new RetryRequest(other.id(), "t1", at(5), 1, "t1", at(5)),
                    new RetryRequest(b.id(), "t1", at(7), 1, "t1", at(5)))));

            assertThat(results.get(0)).isInstanceOfSatisfying(ChangeResult.Changed.class,
                    c -> assertThat(c.job().id()).isEqualTo(a.id()));
            assertThat(results.get(1)).isInstanceOf(ChangeResult.NotFound.class);
            assertThat(results.get(2)).isInstanceOfSatisfying(ChangeResult.Changed.class,
                    c -> assertThat(c.job().dueAt()).isEqualTo(at(7)));
            assertThat(get(other.id()).state()).isEqualTo(JobState.FAILED);
        }

        @Test
        void aRetryByHandThatFailsAgainIsFailedWithItsNewError() {
            Job dead = failed("node-a", job(), at(2));
            retryFailed(dead.id(), null, at(3), 1, "ops", at(3));
            Job again = start(claim("node-a", at(3), 1, at(3)).getFirst(), at(3)).orElseThrow();

            assertThat(again.attempts()).isEqualTo(2);
            assertThat(again.attemptsExhausted()).isTrue();
            assertThat(finish(again, JobState.FAILED, null, null, "HTTP 500", at(4))).isTrue();
            assertThat(get(dead.id()).lastError()).isEqualTo("HTTP 500");
            assertThat(retryFailed(dead.id(), null, at(5), 1, "ops", at(5))).isInstanceOf(ChangeResult.Changed.class);
            assertThat(get(dead.id()).maxAttempts()).isEqualTo(3);
        }
    }

    /** The dead-letter list: FAILED jobs filtered by their last delivery's target and outcome, and by finish time. */
    @Nested
    class DeadLetterFilters {

        private List<JobId> listed(String tenant, JobState state, DeadLetterFilter filter, int pageSize) {
            List<JobId> all = new ArrayList<>();
            JobQuery query = new JobQuery(tenant, state, null, pageSize).filtered(filter);
            for (int pages = 0; ; pages++) {
                assertThat(pages).as("paging terminates").isLessThan(1_000);
                JobPage page = store.list(query);
                all.addAll(ids(page.jobs()));
                if (page.next() == null) {
                    return all;
                }
                query = query.withCursor(page.next());
            }
        }

        @Test
        void filtersByTargetOutcomeAndFinishTimeTogetherAndAlone() {
            Job timeoutA = failed("node-a", job().tenant("t1"), at(10));
            Job httpA = failed("node-a", job().tenant("t1"), at(20));
            Job httpB = failed("node-a", job().tenant("t1"), at(30));
            Job noAttempt = failed("node-a", job().tenant("t1"), at(40));
            Job otherTenant = failed("node-a", job().tenant("t2"), at(40));
            Job succeeded = running("node-a", job().tenant("t1"), at(1));
            assertThat(succeed(succeeded, at(50))).isTrue();
            String a = "https://a.example:443";
            String b = "https://b.example:443";
            setLastDelivery(timeoutA.id(), "timeout", a);
            setLastDelivery(httpA.id(), "http_error", a);
            setLastDelivery(httpB.id(), "http_error", b);
            setLastDelivery(otherTenant.id(), "http_error", a);
            setLastDelivery(succeeded.id(), "success", a);
            DeliveryAttempt.Result http = DeliveryAttempt.Result.HTTP_ERROR;

            assertThat(listed("t1", JobState.FAILED, DeadLetterFilter.ANY, 10))
                    .containsExactly(timeoutA.id(), httpA.id(), httpB.id(), noAttempt.id());
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter(a, null, null), 10))
                    .containsExactly(timeoutA.id(), httpA.id());
            assertThat(listed("t1", null, new DeadLetterFilter(a, null, null), 10))
                    .containsExactly(timeoutA.id(), httpA.id(), succeeded.id());
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter(null, http, null), 10))
                    .containsExactly(httpA.id(), httpB.id());
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter(a, http, null), 10))
                    .containsExactly(httpA.id());
            assertThat(listed(null, JobState.FAILED, new DeadLetterFilter(a, http, null), 1))
                    .containsExactly(httpA.id(), otherTenant.id());
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter(null, null, at(20)), 1))
                    .as("finished at or after").containsExactly(httpA.id(), httpB.id(), noAttempt.id());
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter(null, http, at(21)), 10))
                    .containsExactly(httpB.id());
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter("https://a.example", null, null), 10))
                    .as("an exact match").isEmpty();
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter(null, null, Instant.MIN), 10))
                    .hasSize(4);
            assertThat(listed("t1", JobState.FAILED, new DeadLetterFilter(null, null, Instant.MAX), 10)).isEmpty();
            assertThat(listed("t1", JobState.SCHEDULED, new DeadLetterFilter(null, null, at(0)), 10))
                    .as("an unfinished job has no finish time").isEmpty();
        }

        @Test
        void theFilteredPagesCarryTheirPayloadsOnlyWhenAsked() {
            Job dead = failed("node-a", job().payload("body"), at(10));
            setLastDelivery(dead.id(), "refused", "https://x.example:443");
            JobQuery filter = new JobQuery(null, JobState.FAILED, null, 10, false, JobQuery.UNBOUNDED)
                    .filtered(new DeadLetterFilter(null, DeliveryAttempt.Result.REFUSED, null));

            assertThat(store.list(filter).jobs()).singleElement().satisfies(j -> {
                assertThat(j.id()).isEqualTo(dead.id());
                assertThat(j.payload()).isEmpty();
            });
            JobQuery withPayloads = new JobQuery(null, JobState.FAILED, null, 10, true, JobQuery.UNBOUNDED)
                    .filtered(filter.deadLetters());
            assertThat(new String(store.list(withPayloads).jobs().getFirst().payload())).isEqualTo("body");
        }
    }

    @Nested
    class LeasesAndRescue {

        @Test
        void theJobsOfANodeWhoseLeaseExpiredAreRescued() {
            lazy(tx -> {
                tx.heartbeat(new HeartbeatParams("node-a", at(10), at(0)));
                tx.heartbeat(new HeartbeatParams("node-b", at(100), at(0)));
                return null;
            });
            NewJob waiting = job().build();
            NewJob retryable = job().maxAttempts(3).build();
            NewJob exhausted = job().maxAttempts(1).build();
            NewJob ownedByB = job().owner("node-b").build();
            insert(waiting, retryable, exhausted, ownedByB);
            List<Job> claimedByA = claim("node-a", at(0), 10, at(0));
            assertThat(claimedByA).hasSize(3);
            Job tokenOf = claimedByA.stream().filter(j -> j.id().equals(retryable.id())).findFirst().orElseThrow();
            List<Optional<Job>> started = lazy(tx -> tx.start(claimedByA.stream()
                    .filter(j -> !j.id().equals(waiting.id()))
                    .map(j -> new StartRun(j.id(), "node-a", j.fencingToken(), at(1)))
                    .toList()));
            assertThat(started).allMatch(Optional::isPresent);

            assertThat(rescue(at(5), "node-b", false)).as("node-a is alive").isZero();
            assertThat(rescue(at(10), "node-b", false)).as("lease_until is inclusive")
                    .isZero();

            int rescued = rescue(at(11), "node-b", false);

            assertThat(rescued).isEqualTo(3);
            Job w = get(waiting.id());
            assertThat(w.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(w.owner()).isNull();
            assertThat(w.dueAt()).isEqualTo(T0);
            assertThat(w.attempts()).isZero();
            Job r = get(retryable.id());
            assertThat(r.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(r.owner()).isNull();
            assertThat(r.attempts()).as("the lost attempt counts").isEqualTo(1);
            assertThat(r.dueAt()).as("due now").isEqualTo(at(11));
            assertThat(r.lastError()).isNotBlank();
            assertThat(r.fencingToken()).isGreaterThan(tokenOf.fencingToken());
            Job e = get(exhausted.id());
            assertThat(e.state()).isEqualTo(JobState.FAILED);
            assertThat(e.owner()).isNull();
            assertThat(e.lastError()).isNotBlank();
            assertThat(get(ownedByB.id()).owner()).as("node-b's lease is live").isEqualTo("node-b");

            List<Job> reclaimed = claim("node-b", at(11), 10, at(11));
            assertThat(ids(reclaimed)).containsExactlyInAnyOrder(waiting.id(), retryable.id());
            assertThat(finish(tokenOf, JobState.SUCCEEDED, null, null, null, at(12))).as("node-a's late finish")
                    .isFalse();
            Job lateClaim = claimedByA.stream().filter(j -> j.id().equals(waiting.id())).findFirst().orElseThrow();
            assertThat(start(lateClaim, at(12))).as("node-a's late start").isEmpty();
            assertThat(rescue(at(12), "node-b", false)).as("nothing left to rescue").isZero();
        }

        @Test
        void aHeartbeatExtendsTheLease() {
            lazy(tx -> {
                tx.heartbeat(new HeartbeatParams("node-a", at(10), at(0)));
                return null;
            });
            insertOne(job().owner("node-a").build());
            lazy(tx -> {
                tx.heartbeat(new HeartbeatParams("node-a", at(30), at(9)));
                return null;
            });

            assertThat(rescue(at(20), "node-b", false)).isZero();
            assertThat(rescue(at(31), "node-b", false)).isEqualTo(1);
        }

        @Test
        void anOwnerThatNeverSentAHeartbeatIsRescued() {
            NewJob ghostJob = job().owner("node-ghost").build();
            insertOne(ghostJob);

            assertThat(rescue(at(1), "node-b", false)).isEqualTo(1);

            assertThat(get(ghostJob.id()).owner()).isNull();
        }

        @Test
        void theSurvivorIsNeverRescued() {
            NewJob mine = job().owner("node-b").build();
            insertOne(mine);
            lazy(tx -> {
                tx.heartbeat(new HeartbeatParams("node-b", at(1), at(0)));
                return null;
            });

            assertThat(rescue(at(50), "node-b", false)).isZero();
            assertThat(rescue(at(50), "node-b", true)).isZero();
            assertThat(get(mine.id()).owner()).isEqualTo("node-b");
        }

        @Test
        void allRescuesEveryNodeButTheSurvivor() {
            lazy(tx -> {
                tx.heartbeat(new HeartbeatParams("node-a", at(1_000), at(0)));
                tx.heartbeat(new HeartbeatParams("node-b", at(1_000), at(0)));
                tx.heartbeat(new HeartbeatParams("node-c", at(1_000), at(0)));
                return null;
            });
            NewJob ofA = job().owner("node-a").build();
            NewJob ofC = job().owner("node-c").build();
            insert(ofA, ofC);
            Job runOfB = running("node-b", job(), at(1));

            int rescued = rescue(at(2), "node-c", true);

            assertThat(rescued).isEqualTo(2);
            assertThat(get(ofA.id()).owner()).isNull();
            assertThat(get(runOfB.id()).state()).isEqualTo(JobState.SCHEDULED);
            assertThat(get(runOfB.id()).owner()).isNull();
            assertThat(get(ofC.id()).owner()).isEqualTo("node-c");
        }

        @Test
        void releaseHandsBackEveryClaimOfTheNode() {
            lazy(tx -> {
                tx.heartbeat(new HeartbeatParams("node-a", at(100), at(0)));
                return null;
            });
            NewJob waiting = job().build();
            NewJob toRun = job().build();
            NewJob other = job().owner("node-c").build();
            insert(waiting, toRun, other);
            List<Job> claimed = claim("node-a", at(0), 10, at(0));
            Job run = start(claimed.stream().filter(j -> j.id().equals(toRun.id())).findFirst().orElseThrow(),
                    at(1)).orElseThrow();

            int released = release("node-a", at(5));

            assertThat(released).isEqualTo(2);
            Job w = get(waiting.id());
            assertThat(w.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(w.owner()).isNull();
            Job r = get(toRun.id());
            assertThat(r.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(r.owner()).isNull();
            assertThat(r.attempts()).isEqualTo(1);
            assertThat(r.dueAt()).isEqualTo(at(5));
            assertThat(get(other.id()).owner()).isEqualTo("node-c");
            assertThat(finish(run, JobState.SUCCEEDED, null, null, null, at(6))).isFalse();
            assertThat(ids(claim("node-b", at(5), 10, at(6)))).containsExactlyInAnyOrder(waiting.id(), toRun.id());
            assertThat(release("node-a", at(7))).isZero();
        }
    }

    @Nested
    class Prune {

        @Test
        void deletesOnlyTerminalJobsFinishedBeforeTheCutoffUpToTheLimit() {
            Job succeededEarly = running("node-a", job(), at(0));
            assertThat(succeed(succeededEarly, at(1))).isTrue();
            Job failedEarly = running("node-a", job(), at(0));
            assertThat(finish(failedEarly, JobState.FAILED, null, null, "x", at(2))).isTrue();
            NewJob cancelledEarly = job().build();
            insertOne(cancelledEarly);
            assertThat(cancel(cancelledEarly.id(), null, at(3))).isInstanceOf(ChangeResult.Changed.class);
            Job succeededLate = running("node-a", job(), at(0));
            assertThat(succeed(succeededLate, at(20))).isTrue();
            Job stillRunning = running("node-a", job(), at(0));
            Job retried = running("node-a", job(), at(0));
            assertThat(finish(retried, JobState.SCHEDULED, at(5), null, "again", at(4))).isTrue();
            NewJob scheduled = job().build();
            insertOne(scheduled);

            int first = prune(at(10), 2);
            int second = prune(at(10), 2);
            int third = prune(at(10), 2);

            assertThat(first).isEqualTo(2);
            assertThat(second).isEqualTo(1);
            assertThat(third).isZero();
            assertThat(store.find(succeededEarly.id())).isEmpty();
            assertThat(store.find(failedEarly.id())).isEmpty();
            assertThat(store.find(cancelledEarly.id())).isEmpty();
            assertThat(ids(listAll(null, null, 100)))
                    .containsExactly(succeededLate.id(), stillRunning.id(), retried.id(), scheduled.id());
        }

        @Test
        void theCutoffIsExclusive() {
            Job done = running("node-a", job(), at(0));
            assertThat(succeed(done, at(10))).isTrue();

            assertThat(prune(at(10), 10)).isZero();
            assertThat(prune(at(10).plusMillis(1), 10)).isEqualTo(1);
        }
    }

    @Nested
    class ClaimsOf {

        private Claim claimOf(JobId id) {
            Job job = get(id);
            return new Claim(job.id(), job.tenant(), job.dueAt(), job.fencingToken());
        }

        /** Every page of {@code owner}'s claims, {@code pageSize} at a time, as the engine's sweep reads them. */
        private List<Claim> claimsAll(String owner, int pageSize) {
            List<Claim> all = new ArrayList<>();
            JobId after = null;
            for (int pages = 0; ; pages++) {
                assertThat(pages).as("paging terminates").isLessThan(10_000);
                List<Claim> page = store.claimsOf(new ClaimsOfParams(owner, after, pageSize));
                assertThat(page.size()).isLessThanOrEqualTo(pageSize);
                all.addAll(page);
                if (page.size() < pageSize) {
                    return all;
                }
                after = page.getLast().id();
            }
        }

        @Test
        void onlyTheScheduledJobsClaimedByTheOwnerWithTheirClaimsToken() {
            lazy(tx -> {
                tx.heartbeat(new HeartbeatParams("node-a", at(100), at(0)));
                return null;
            });
            NewJob inserted = job().tenant("acme").payload(new byte[64 * 1024]).dueIn(5).owner("node-a").build();
            NewJob unowned = job().dueIn(100).build();
            NewJob claimed = job().tenant("beta").dueIn(1).build();
            NewJob rescheduled = job().owner("node-a").build();
            NewJob otherOwner = job().owner("node-b").build();
            NewJob cancelled = job().owner("node-a").build();
            insert(inserted, unowned, claimed, rescheduled, otherOwner, cancelled);
            assertThat(ids(claim("node-a", at(10), 10, at(0)))).containsExactly(claimed.id());
            assertThat(reschedule(rescheduled.id(), null, at(7), "node-a", at(1)))
                    .isInstanceOf(ChangeResult.Changed.class);
            assertThat(cancel(cancelled.id(), null, at(1))).isInstanceOf(ChangeResult.Changed.class);
            Job runningOfA = running("node-a", job(), at(2));

            List<Claim> claims = store.claimsOf(new ClaimsOfParams("node-a", null, 100));

            assertThat(claims).containsExactly(
                    new Claim(inserted.id(), "acme", at(5), 0),
                    new Claim(claimed.id(), "beta", at(1), 1),
                    new Claim(rescheduled.id(), "t1", at(7), 1));
            assertThat(claims).extracting(Claim::id).doesNotContain(runningOfA.id(), unowned.id(), otherOwner.id(),
                    cancelled.id());
            assertThat(store.claimsOf(new ClaimsOfParams("node-b", null, 100)))
                    .containsExactly(claimOf(otherOwner.id()));
            assertThat(store.claimsOf(new ClaimsOfParams("node-c", null, 100))).isEmpty();
        }

        @Test
        void pagesThroughEveryClaimInIdOrderWithoutDuplicatesOrGaps() {
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 75; i++) {
                TestJobs.Builder b = job().dueIn(75 - i);
                batch.add((i % 3 == 0 ? b.owner("node-a") : i % 3 == 1 ? b.owner("node-b") : b).build());
            }
            fsync(tx -> tx.insert(batch));
            List<Claim> expected = batch.stream().filter(j -> "node-a".equals(j.owner()))
                    .map(j -> new Claim(j.id(), j.tenant(), j.dueAt(), 0)).sorted(Comparator.comparing(Claim::id))
                    .toList();

            assertThat(expected).hasSize(25);
            for (int pageSize : new int[] {1, 7, 24, 25, 26, 1000}) {
                assertThat(claimsAll("node-a", pageSize)).as("pages of " + pageSize)
                        .containsExactlyElementsOf(expected);
            }
        }

        @Test
        void aCursorStartsAfterTheGivenIdWhateverJobItNames() {
            JobId first = TestJobs.nextId();
            JobId between = TestJobs.nextId();
            JobId second = TestJobs.nextId();
            JobId third = TestJobs.nextId();
            // Inserted out of id order: the order is the ids', not the insertion's.
            insert(job().id(third).owner("node-a").build(), job().id(between).owner("node-b").build(),
                    job().id(first).owner("node-a").build(), job().id(second).owner("node-a").build());

            assertThat(store.claimsOf(new ClaimsOfParams("node-a", null, 10))).extracting(Claim::id)
                    .containsExactly(first, second, third);
            assertThat(store.claimsOf(new ClaimsOfParams("node-a", null, 2))).extracting(Claim::id)
                    .containsExactly(first, second);
            assertThat(store.claimsOf(new ClaimsOfParams("node-a", first, 10))).extracting(Claim::id)
                    .containsExactly(second, third);
            assertThat(store.claimsOf(new ClaimsOfParams("node-a", between, 1)))
                    .as("a cursor naming another owner's job").extracting(Claim::id).containsExactly(second);
            assertThat(store.claimsOf(new ClaimsOfParams("node-a", third, 10))).isEmpty();
        }
    }

    @Nested
    class ListAndIds {

        @Test
        void pagesThroughEveryJobInIdOrderWithoutDuplicatesOrGaps() {
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 250; i++) {
                batch.add(job().tenant("t" + (i % 3)).dueIn(250 - i).build());
            }
            fsync(tx -> tx.insert(batch));
            List<CancelRequest> cancels = new ArrayList<>();
            for (int i = 0; i < 250; i += 5) {
                cancels.add(new CancelRequest(batch.get(i).id(), null, at(1)));
            }
            fsync(tx -> tx.cancel(cancels));
            List<JobId> allIds = batch.stream().map(NewJob::id).sorted().toList();

            assertThat(ids(listAll(null, null, 100))).containsExactlyElementsOf(allIds);
            assertThat(ids(listAll(null, null, 7))).containsExactlyElementsOf(allIds);
            assertThat(ids(listAll(null, null, 250))).containsExactlyElementsOf(allIds);
            assertThat(ids(listAll(null, null, JobQuery.MAX_LIMIT))).containsExactlyElementsOf(allIds);

            for (int t = 0; t < 3; t++) {
                String tenant = "t" + t;
                List<JobId> expected = new ArrayList<>();
                List<JobId> expectedCancelled = new ArrayList<>();
                for (int i = 0; i < 250; i++) {
                    if (i % 3 == t) {
                        expected.add(batch.get(i).id());
                        if (i % 5 == 0) {
                            expectedCancelled.add(batch.get(i).id());
                        }
                    }
                }
                List<Job> ofTenant = listAll(tenant, null, 13);
                assertThat(ids(ofTenant)).containsExactlyElementsOf(expected);
                assertThat(ofTenant).allMatch(j -> j.tenant().equals(tenant));
                assertThat(ids(listAll(tenant, JobState.CANCELLED, 4))).containsExactlyElementsOf(expectedCancelled);
            }
            List<Job> cancelled = listAll(null, JobState.CANCELLED, 9);
            assertThat(cancelled).hasSize(50).allMatch(j -> j.state() == JobState.CANCELLED);
            assertThat(listAll(null, JobState.SCHEDULED, 100)).hasSize(200);
            assertThat(listAll(null, JobState.RUNNING, 100)).isEmpty();
            assertThat(listAll("nobody", null, 100)).isEmpty();
        }

        @Test
        void aCursorStartsAfterTheGivenId() {
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                batch.add(job().build());
            }
            fsync(tx -> tx.insert(batch));

            JobPage page = store.list(new JobQuery(null, null, batch.get(3).id(), 4));

            assertThat(ids(page.jobs())).containsExactly(
                    batch.get(4).id(), batch.get(5).id(), batch.get(6).id(), batch.get(7).id());
            assertThat(page.next()).isEqualTo(batch.get(7).id());
            JobPage last = store.list(new JobQuery(null, null, page.next(), 4));
            assertThat(ids(last.jobs())).containsExactly(batch.get(8).id(), batch.get(9).id());
            assertThat(last.next()).isNull();
        }

        @Test
        void listedJobsCarryEveryField() {
            NewJob newJob = job().target("{}").payload("x").timeout(Duration.ofSeconds(3))
                    .idempotency("k", hash("k")).build();
            insertOne(newJob);

            JobPage page = store.list(new JobQuery(null, null, null, 10));

            assertThat(page.jobs()).singleElement().satisfies(j -> assertSameJob(j, newJob.toJob()));
            assertThat(page.next()).isNull();
        }

        @Test
        void aPageEndsEarlyWhenTheNextRowWouldExceedTheByteBudgetAndTheCursorContinues() {
            // 30 jobs of 10,000-byte payloads, budget 35,000 bytes: each page with payloads holds 3 rows.
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                batch.add(job().tenant(i % 2 == 0 ? "big" : "other").payload(payloadOf(10_000, i)).build());
            }
            fsync(tx -> tx.insert(batch));
            List<NewJob> big = batch.stream().filter(j -> j.tenant().equals("big")).toList();
            List<Job> seen = new ArrayList<>();
            JobId after = null;
            for (int pages = 0; ; pages++) {
                assertThat(pages).as("paging terminates").isLessThan(100);
                JobQuery query = new JobQuery("big", null, after, JobQuery.MAX_LIMIT, true, 35_000);
                JobPage page = store.list(query);
                long cost = page.jobs().stream().mapToLong(j -> query.cost(j, j.payload().length)).sum();
                assertThat(cost).as("a page stays within its byte budget").isLessThanOrEqualTo(query.maxBytes());
                seen.addAll(page.jobs());
                if (page.next() == null) {
                    break;
                }
                assertThat(page.jobs()).as("a page that ends early is full to its budget").hasSize(3);
                assertThat(page.next()).isEqualTo(page.jobs().getLast().id());
                after = page.next();
            }

            assertThat(ids(seen)).as("every job exactly once, in id order")
                    .containsExactlyElementsOf(big.stream().map(NewJob::id).sorted().toList());
            for (Job job : seen) {
                NewJob stored = big.stream().filter(j -> j.id().equals(job.id())).findFirst().orElseThrow();
                assertThat(job.payload()).as("the payload of %s", job.id()).isEqualTo(stored.payload());
            }
        }

        @Test
        void aPageWithoutPayloadsCarriesNoneAndIsNotCutByThem() {
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                batch.add(job().payload(payloadOf(10_000, i)).build());
            }
            fsync(tx -> tx.insert(batch));

            JobPage page = store.list(new JobQuery(null, null, null, 100, false, 35_000));

            assertThat(ids(page.jobs())).containsExactlyElementsOf(batch.stream().map(NewJob::id).sorted().toList());
            assertThat(page.jobs()).allSatisfy(j -> assertThat(j.payload()).isEmpty());
            assertThat(page.next()).isNull();
            assertThat(page.jobs().getFirst().tenant()).isEqualTo(batch.getFirst().tenant());
        }

        @Test
        void largeTargetsCountAgainstTheBudgetWithoutPayloadsToo() {
            String target = "{\"url\":\"" + "u".repeat(20_000) + "\"}";
            List<NewJob> batch = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                batch.add(job().target(target).payload(payloadOf(100, i)).build());
            }
            fsync(tx -> tx.insert(batch));
            JobQuery query = new JobQuery(null, null, null, 100, false, 100_000);

            JobPage page = store.list(query);

            assertThat(page.jobs()).as("2 x 2 bytes a character of 20,000-character targets fit 100,000").hasSize(2);
            assertThat(page.jobs()).allSatisfy(j -> {
                assertThat(j.target()).isEqualTo(target);
                assertThat(j.payload()).isEmpty();
            });
            assertThat(page.next()).isEqualTo(batch.get(1).id());
        }

        @Test
        void aRowLargerThanTheWholeBudgetStillMakesAPageOfItsOwn() {
            insert(job().payload(payloadOf(50_000, 1)).build(), job().payload(payloadOf(50_000, 2)).build());

            JobPage page = store.list(new JobQuery(null, null, null, 10, true, 1_000));

            assertThat(page.jobs()).singleElement().satisfies(j -> assertThat(j.payload()).hasSize(50_000));
            assertThat(page.next()).isEqualTo(page.jobs().getFirst().id());
            JobPage last = store.list(new JobQuery(null, null, page.next(), 10, true, 1_000));
            assertThat(last.jobs()).singleElement().satisfies(j -> assertThat(j.payload()).hasSize(50_000));
            assertThat(last.next()).isNull();
        }

        @Test
        void anEmptyStoreHasNoJobsAndNoLastId() {
            JobPage page = store.list(new JobQuery(null, null, null, 10));

            assertThat(page.jobs()).isEmpty();
            assertThat(page.next()).isNull();
            assertThat(store.lastJobId()).isEmpty();
        }

        @Test
        void lastJobIdIsTheLargestIdStored() {
            JobId first = TestJobs.nextId();
            JobId second = TestJobs.nextId();
            JobId third = TestJobs.nextId();

            insert(job().id(third).build(), job().id(first).build(), job().id(second).build());

            assertThat(store.lastJobId()).contains(third);
        }
    }

    /**
     * A value the store cannot keep (an instant beyond 64-bit epoch milliseconds, a text with U+0000) is refused with
     * an {@link InvalidDataException} naming its field and its position in the batch; the transaction is rolled back,
     * nothing of it is kept, and the same batch without the refused element then commits with exactly the results it
     * would have had alone (nothing the refused element or its transaction touched is left behind in the store).
     */
    @Nested
    class RefusedValues {
        static final Instant BEYOND = Instant.MAX;
        static final String NUL = "a\0b";

        private void assertRefused(Runnable write, String field, int element) {
            assertThatThrownBy(write::run)
                    .isInstanceOfSatisfying(InvalidDataException.class, e -> {
                        assertThat(e.field()).isEqualTo(field);
                        assertThat(e.element()).isEqualTo(element);
                        assertThat(e.getMessage()).startsWith(field + ": ");
                    });
        }

        @Test
        void everyRefusedFieldOfAnInsertFailsThatJobAloneAndLeavesNothing() {
            List<TestJobs.Builder> refused = List.of(
                    job().dueAt(BEYOND), job().dueAt(Instant.MIN), job().createdAt(BEYOND),
                    job().idempotency(NUL, hash("x")), job().tenant(NUL), job().handler(NUL), job().target(NUL),
                    job().owner(NUL), job().timeout(Duration.ofSeconds(Long.MAX_VALUE)),
                    job().backoff(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(Long.MAX_VALUE))));
            List<String> fields = List.of("dueAt", "dueAt", "createdAt", "idempotencyKey", "tenant", "handler",
                    "target", "owner", "timeout", "backoff");
            List<NewJob> stored = new ArrayList<>();
            for (int i = 0; i < refused.size(); i++) {
                NewJob before = job().idempotency("before-" + i, hash("b" + i)).build();
                NewJob bad = refused.get(i).build();
                NewJob after = job().build();

                assertRefused(() -> insert(before, bad, after), fields.get(i), 1);

                assertThat(store.find(before.id())).isEmpty();
                assertThat(store.find(bad.id())).isEmpty();
                assertThat(store.find(after.id())).isEmpty();
                // The same callers again, without the refused one: each is created once, as if alone.
                assertThat(insert(before, after)).allMatch(r -> r instanceof InsertResult.Created);
                NewJob next = job().build();
                assertThat(insert(next)).singleElement().isInstanceOf(InsertResult.Created.class);
                stored.addAll(List.of(before, after, next));
            }
            assertThat(ids(listAll(null, null, 100)))
                    .containsExactlyInAnyOrderElementsOf(stored.stream().map(NewJob::id).toList());
            assertThat(store.lastJobId()).contains(stored.stream().map(NewJob::id).max(Comparator.naturalOrder())
                    .orElseThrow());
        }

        @Test
        void aBatchTheDatabaseFailsHalfWayLeavesNothingForTheNextTransaction() {
            Job existing = insertOne(job().build());
            NewJob a = job().idempotency("a", hash("a")).build();
            NewJob clash = job().id(existing.id()).build();

            assertThatThrownBy(() -> insert(a, clash)).isInstanceOf(StoreException.class);

            assertThat(store.find(a.id())).isEmpty();
            NewJob b = job().build();
            assertThat(insert(b)).singleElement().isInstanceOf(InsertResult.Created.class);
            assertThat(insert(a)).singleElement().isInstanceOf(InsertResult.Created.class);
            assertThat(ids(listAll(null, null, 10))).containsExactlyInAnyOrder(existing.id(), a.id(), b.id());
        }

        @Test
        void aRefusedElementOfALaterKindRollsBackTheWholeTransaction() {
            Job kept = insertOne(job().build());
            NewJob fresh = job().build();

            assertRefused(() -> fsync(tx -> {
                tx.insert(List.of(fresh));
                return tx.cancel(List.of(new CancelRequest(kept.id(), null, at(1)),
                        new CancelRequest(kept.id(), null, BEYOND)));
            }), "now", 1);

            assertThat(store.find(fresh.id())).isEmpty();
            assertSameJob(get(kept.id()), kept);
            assertThat(insert(fresh)).singleElement().isInstanceOf(InsertResult.Created.class);
        }

        @Test
        void aRefusedCancelLeavesTheOthersToCommitAlone() {
            Job a = insertOne(job().build());
            Job b = insertOne(job().build());

            assertRefused(() -> fsync(tx -> tx.cancel(List.of(new CancelRequest(a.id(), "t1", at(1)),
                    new CancelRequest(b.id(), NUL, at(1))))), "tenant", 1);
            assertRefused(() -> fsync(tx -> tx.cancel(List.of(new CancelRequest(a.id(), "t1", at(1)),
                    new CancelRequest(b.id(), "t1", BEYOND)))), "now", 1);

            assertSameJob(get(a.id()), a);
            assertSameJob(get(b.id()), b);
            assertThat(cancel(a.id(), "t1", at(1))).isInstanceOf(ChangeResult.Changed.class);
            assertThat(get(a.id()).state()).isEqualTo(JobState.CANCELLED);
            assertThat(get(a.id()).fencingToken()).isEqualTo(1);
            assertSameJob(get(b.id()), b);
        }

        @Test
        void aRefusedRescheduleLeavesTheOthersToCommitAlone() {
            Job a = insertOne(job().build());
            Job b = insertOne(job().build());

            assertRefused(() -> fsync(tx -> tx.reschedule(List.of(
                    new RescheduleRequest(a.id(), "t1", at(5), null, at(1)),
                    new RescheduleRequest(b.id(), "t1", BEYOND, null, at(1))))), "dueAt", 1);
            assertRefused(() -> fsync(tx -> tx.reschedule(List.of(
                    new RescheduleRequest(a.id(), "t1", at(5), null, at(1)),
                    new RescheduleRequest(b.id(), "t1", at(5), NUL, at(1))))), "owner", 1);
            assertRefused(() -> fsync(tx -> tx.reschedule(List.of(
                    new RescheduleRequest(b.id(), "t1", Instant.MIN, null, at(1)),
                    new RescheduleRequest(a.id(), "t1", at(5), null, at(1))))), "dueAt", 0);

            assertSameJob(get(a.id()), a);
            assertSameJob(get(b.id()), b);
            assertThat(reschedule(a.id(), "t1", at(5), null, at(1))).isInstanceOf(ChangeResult.Changed.class);
            assertThat(get(a.id()).dueAt()).isEqualTo(at(5));
            assertThat(get(a.id()).fencingToken()).isEqualTo(1);
            assertSameJob(get(b.id()), b);
        }

        @Test
        void aRefusedRetryLeavesTheOthersToCommitAlone() {
            Job a = failed("node-a", job(), at(2));
            Job b = failed("node-a", job(), at(2));

            assertRefused(() -> fsync(tx -> tx.retryFailed(List.of(
                    new RetryRequest(a.id(), null, at(5), 1, "ops", at(5)),
                    new RetryRequest(b.id(), null, BEYOND, 1, "ops", at(5))))), "dueAt", 1);
            assertRefused(() -> fsync(tx -> tx.retryFailed(List.of(
                    new RetryRequest(a.id(), null, at(5), 1, "ops", at(5)),
                    new RetryRequest(b.id(), null, at(5), 1, NUL, at(5))))), "by", 1);
            assertRefused(() -> fsync(tx -> tx.retryFailed(List.of(
                    new RetryRequest(b.id(), NUL, at(5), 1, "ops", at(5)),
                    new RetryRequest(a.id(), null, at(5), 1, "ops", at(5))))), "tenant", 0);
            assertRefused(() -> fsync(tx -> tx.retryFailed(List.of(
                    new RetryRequest(a.id(), null, at(5), 1, "ops", at(5)),
                    new RetryRequest(b.id(), null, at(5), 1, "ops", BEYOND)))), "now", 1);

            assertSameJob(get(a.id()), a);
            assertSameJob(get(b.id()), b);
            assertThat(retryFailed(a.id(), null, at(5), 1, "ops", at(5))).isInstanceOf(ChangeResult.Changed.class);
            assertThat(get(a.id()).state()).isEqualTo(JobState.SCHEDULED);
            assertSameJob(get(b.id()), b);
        }

        @Test
        void aRefusedStartLeavesTheOthersToCommitAlone() {
            insert(job().build(), job().build());
            List<Job> claimed = claim("node-a", at(0), 10, at(0));
            Job a = claimed.get(0);
            Job b = claimed.get(1);

            assertRefused(() -> lazy(tx -> tx.start(List.of(new StartRun(a.id(), "node-a", a.fencingToken(), at(1)),
                    new StartRun(b.id(), NUL, b.fencingToken(), at(1))))), "owner", 1);
            assertRefused(() -> lazy(tx -> tx.start(List.of(new StartRun(a.id(), "node-a", a.fencingToken(), at(1)),
                    new StartRun(b.id(), "node-a", b.fencingToken(), BEYOND)))), "now", 1);

            assertSameJob(get(a.id()), a);
            assertSameJob(get(b.id()), b);
            assertThat(start(a, at(1))).hasValueSatisfying(j -> assertThat(j.attempts()).isEqualTo(1));
            assertSameJob(get(b.id()), b);
        }

        @Test
        void aRefusedFinishLeavesTheOthersToCommitAlone() {
            Job a = running("node-a", job(), at(1));
            Job b = running("node-a", job(), at(1));

            assertRefused(() -> lazy(tx -> tx.finish(List.of(
                    new FinishRun(a.id(), "node-a", a.fencingToken(), JobState.SUCCEEDED, null, null, null, at(2)),
                    new FinishRun(b.id(), "node-a", b.fencingToken(), JobState.SCHEDULED, BEYOND, null, "x", at(2))))),
                    "dueAt", 1);
            assertRefused(() -> lazy(tx -> tx.finish(List.of(
                    new FinishRun(a.id(), "node-a", a.fencingToken(), JobState.SUCCEEDED, null, null, null, at(2)),
                    new FinishRun(b.id(), "node-a", b.fencingToken(), JobState.SCHEDULED, at(3), NUL, "x", at(2))))),
                    "nextOwner", 1);

            assertSameJob(get(a.id()), a);
            assertSameJob(get(b.id()), b);
            assertThat(succeed(a, at(2))).isTrue();
            assertThat(get(a.id()).state()).isEqualTo(JobState.SUCCEEDED);
            assertSameJob(get(b.id()), b);
        }

        @Test
        void aLastErrorIsNeverRefusedItsNulsAreReplaced() {
            Job run = running("node-a", job(), at(1));

            assertThat(finish(run, JobState.FAILED, null, null, "bad\0body", at(2))).isTrue();

            assertThat(get(run.id()).lastError()).isEqualTo("bad\uFFFDbody");
        }

        @Test
        void aRefusedClaimClaimsNothing() {
            Job a = insertOne(job().build());

            assertRefused(() -> claim(NUL, at(0), 10, at(0)), "owner", 0);
            assertRefused(() -> claim("node-a", BEYOND, 10, at(0)), "dueBefore", 0);
            assertRefused(() -> claim("node-a", at(0), 10, Instant.MIN), "now", 0);

            assertSameJob(get(a.id()), a);
            assertThat(ids(claim("node-a", at(0), 10, at(0)))).containsExactly(a.id());
        }

        @Test
        void aRefusedHeartbeatRenewsNothing() {
            insertOne(job().owner("node-a").build());
            NewJob fresh = job().build();

            assertRefused(() -> lazy(tx -> {
                tx.insert(List.of(fresh));
                return tx.heartbeat(new HeartbeatParams("node-a", BEYOND, at(0)));
            }), "leaseUntil", 0);
            assertRefused(() -> lazy(tx -> tx.heartbeat(new HeartbeatParams(NUL, at(100), at(0)))), "node", 0);

            assertThat(store.find(fresh.id())).isEmpty();
            assertThat(rescue(at(1), "node-z", false)).as("no lease was kept: node-a's claim is rescued").isOne();
        }

        @Test
        void aRefusedReleaseOrRescueHandsNothingBack() {
            Job a = insertOne(job().owner("node-a").build());

            assertRefused(() -> release(NUL, at(1)), "node", 0);
            assertRefused(() -> release("node-a", BEYOND), "now", 0);
            assertRefused(() -> rescue(BEYOND, "node-z", true), "now", 0);
            assertRefused(() -> rescue(at(1), NUL, true), "rescuer", 0);

            assertSameJob(get(a.id()), a);
            assertThat(release("node-a", at(1))).isOne();
            assertThat(get(a.id()).owner()).isNull();
        }

        @Test
        void aRefusedPruneDeletesNothing() {
            Job run = running("node-a", job(), at(1));
            assertThat(succeed(run, at(2))).isTrue();

            assertRefused(() -> prune(BEYOND, 10), "finishedBefore", 0);

            assertThat(store.find(run.id())).isPresent();
            assertThat(prune(at(3), 10)).isOne();
        }
    }

    @Nested
    class Transactions {

        @Test
        void aWriteReturnsTheResultOfItsWork() {
            String result = fsync(tx -> "done");

            assertThat(result).isEqualTo("done");
        }

        @Test
        void aWriteWhoseWorkThrowsIsRolledBackEntirely() {
            NewJob kept = job().build();
            insertOne(kept);
            NewJob a = job().build();
            NewJob b = job().idempotency("k", hash("k")).build();
            RuntimeException boom = new RuntimeException("boom");

            assertThatThrownBy(() -> fsync(tx -> {
                tx.insert(List.of(a, b));
                tx.heartbeat(new HeartbeatParams("node-a", at(100), at(0)));
                tx.claimDue(new ClaimDueParams("node-a", at(0), 10, at(0)));
                tx.cancel(List.of(new CancelRequest(kept.id(), null, at(0))));
                throw boom;
            })).isSameAs(boom);

            assertThat(store.find(a.id())).isEmpty();
            assertThat(store.find(b.id())).isEmpty();
            Job k = get(kept.id());
            assertThat(k.state()).isEqualTo(JobState.SCHEDULED);
            assertThat(k.owner()).isNull();
            assertThat(k.fencingToken()).isZero();
            assertThat(store.lastJobId()).contains(kept.id());
            assertThat(rescue(at(1), "node-z", false)).as("no heartbeat was kept").isZero();

            // The store is still usable, and the idempotency key was not taken by the rolled-back insert.
            assertThat(insert(a, b)).allMatch(r -> r instanceof InsertResult.Created);
        }

        @Test
        void uncommittedWritesAreInvisibleToReaders() {
            NewJob newJob = job().build();

            Optional<Job> seenInside = fsync(tx -> {
                tx.insert(List.of(newJob));
                return store.find(newJob.id());
            });

            assertThat(seenInside).isEmpty();
            assertThat(store.find(newJob.id())).isPresent();
        }

        @Test
        void bothDurabilitiesCommit() {
            NewJob a = job().build();
            NewJob b = job().build();

            lazy(tx -> tx.insert(List.of(a)));
            fsync(tx -> tx.insert(List.of(b)));

            assertThat(store.find(a.id())).isPresent();
            assertThat(store.find(b.id())).isPresent();
        }

        @Test
        void emptyBatchesAreAllowed() {
            List<List<?>> results = fsync(tx -> List.of(
                    tx.insert(List.of()), tx.start(List.of()), tx.finish(List.of()), tx.cancel(List.of()),
                    tx.reschedule(List.of()), tx.claimDue(new ClaimDueParams("node-a", at(0), 10, at(0)))));

            assertThat(results).allMatch(List::isEmpty);
        }
    }

    /** countPending: the pending-jobs gauges, by tenant and due window. */
    @Nested
    class CountPending {

        @Test
        void countsScheduledJobsByTenantAndWindowWithTheOldestDueTime() {
            Instant now = T0;
            insert(job().tenant("a").dueAt(now.minusSeconds(30)).build(),
                    job().tenant("a").dueAt(now.minusSeconds(5)).build(),
                    job().tenant("a").dueAt(now).build(), // due exactly now: overdue (the edge is inclusive)
                    job().tenant("a").dueAt(now.plusSeconds(60)).build(), // the edge of the first minute
                    job().tenant("a").dueAt(now.plusSeconds(61)).build(),
                    job().tenant("b").dueAt(now.plus(Duration.ofHours(5))).build(),
                    job().tenant("b").dueAt(now.plus(Duration.ofDays(3))).build(),
                    job().tenant("b").dueAt(now.plus(Duration.ofDays(4))).build());

            assertThat(store.countPending(PendingCountParams.all(now))).containsExactlyInAnyOrder(
                    new PendingCount("a", DueWindow.OVERDUE, 3, now.minusSeconds(30)),
                    new PendingCount("a", DueWindow.LT_1M, 1, now.plusSeconds(60)),
                    new PendingCount("a", DueWindow.LT_1H, 1, now.plusSeconds(61)),
                    new PendingCount("b", DueWindow.LT_1D, 1, now.plus(Duration.ofHours(5))),
                    new PendingCount("b", DueWindow.GE_1D, 2, now.plus(Duration.ofDays(3))));
        }

        @Test
        void leavesOutRunningAndFinishedJobs() {
            Job running = running("node-a", job().tenant("a").dueAt(T0.minusSeconds(1)), T0);
            Job done = running("node-a", job().tenant("a").dueAt(T0.minusSeconds(2)), T0);
            succeed(done, T0);
            insertOne(job().tenant("a").dueAt(T0.plusSeconds(10)).build());

            assertThat(running.state()).isEqualTo(JobState.RUNNING);
            assertThat(store.countPending(PendingCountParams.all(T0))).containsExactly(
                    new PendingCount("a", DueWindow.LT_1M, 1, T0.plusSeconds(10)));
        }

        @Test
        void anEmptyStoreCountsNothing() {
            assertThat(store.countPending(PendingCountParams.all(T0))).isEmpty();
        }

        @Test
        void aBoundCountsOnlyTheJobsDueUntilIt() {
            insert(job().tenant("a").dueAt(T0.minusSeconds(10)).build(),
                    job().tenant("a").dueAt(T0.minusSeconds(20)).owner("node-a").build(), // held: counted too
                    job().tenant("a").dueAt(T0.plusSeconds(3_600)).build(), // the bound itself: counted
                    job().tenant("a").dueAt(T0.plusSeconds(3_601)).build(),
                    job().tenant("a").dueAt(T0.plusSeconds(3_602)).owner("node-a").build(),
                    job().tenant("b").dueAt(T0.plus(Duration.ofDays(2))).build());
            running("node-a", job().tenant("a").dueAt(T0.minusSeconds(30)), T0); // RUNNING: not pending

            assertThat(store.countPending(PendingCountParams.dueUntil(T0, T0.plusSeconds(3_600))))
                    .containsExactlyInAnyOrder(
                            new PendingCount("a", DueWindow.OVERDUE, 2, T0.minusSeconds(20)),
                            new PendingCount("a", DueWindow.LT_1H, 1, T0.plusSeconds(3_600)));
        }
    }
}
