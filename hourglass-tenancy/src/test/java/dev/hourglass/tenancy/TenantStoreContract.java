package dev.hourglass.tenancy;

import static dev.hourglass.store.testkit.TestJobs.T0;
import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.model.Job;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.CancelRequest;
import dev.hourglass.core.store.ChangeResult;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.FinishRun;
import dev.hourglass.core.store.InsertResult;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.store.StartRun;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.store.jdbc.SqlDatabase;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite of {@link TenantStore} on a store's database: a test extends this class on a real database and
 * implements {@link #openStore()}; the suite reaches the tenants through {@link JdbcTenantStore#on} over the store's
 * {@link SqlDatabase} capability and inserts jobs through the job SPI only. Every time is a whole millisecond off {@link dev.hourglass.store.testkit.TestJobs#T0} (stores keep
 * epoch milliseconds), with millisecond parts, so that a store that drops them fails.
 */
public abstract class TenantStoreContract {

    /** A fresh, empty store; the suite closes it after each test. */
    protected abstract JobStore openStore();

    protected JobStore store;
    protected TenantStore tenants;

    @BeforeEach
    void openFreshStore() {
        store = openStore();
        tenants = JdbcTenantStore.on((SqlDatabase) store);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // fixtures

    /** Quotas unlike {@link Quotas#DEFAULTS} in every field, so that a swapped or dropped column shows. */
    protected static final Quotas QUOTAS = new Quotas(1_234_567, 89, 1_011, 12_345, Duration.ofDays(7).plusMillis(5),
            17);

    /**
     * Target settings unlike {@link TargetSettings#DEFAULTS} in every field; the thresholds are not binary fractions,
     * so that a store keeping them in less than a double's precision fails.
     */
    protected static final TargetSettings TARGETS = new TargetSettings(0.3, 0.1, 33, 7, true, 3_601,
            URI.create("https://ops.example.com/hooks/hourglass?team=a%20b"));

    /** A tenant with non-default values everywhere and three secrets in no sorted order. */
    protected static Tenant tenant(String name) {
        return new Tenant(name, 7, QUOTAS, List.of("whsec_bbbb", "whsec_cccc", "whsec_aaaa"), TARGETS,
                T0.plusMillis(123), T0.plusMillis(456));
    }

    /** An active key {@code id} of {@code tenant}, issued at {@code createdAt}, hashed from its id. */
    protected static ApiKey key(String id, String tenant, Instant createdAt) {
        return new ApiKey(id, tenant, sha256Hex("key-text-of-" + id), createdAt, null);
    }

    protected static ApiKey key(String id, String tenant) {
        return key(id, tenant, T0.plusMillis(789));
    }

    /** Lowercase hex SHA-256, the form {@link ApiKey#hash()} takes. */
    protected static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Creates {@code tenant} with a first key {@code <name>-k1} and asserts that it was created. */
    protected ApiKey create(Tenant tenant) {
        ApiKey first = key(tenant.name() + "-k1", tenant.name());
        assertThat(tenants.create(tenant, first)).as("create " + tenant.name()).isTrue();
        return first;
    }

    protected Tenant found(String name) {
        return tenants.find(name).orElseThrow(() -> new AssertionError("tenant " + name + " not found"));
    }

    private static List<String> names(List<Tenant> list) {
        return list.stream().map(Tenant::name).toList();
    }

    private static List<String> ids(List<ApiKey> keys) {
        return keys.stream().map(ApiKey::id).toList();
    }

    // ---------------------------------------------------------------------------------------------------------

    @Nested
    class CreateAndFind {

        @Test
        void roundTripsEveryField() {
            Tenant tenant = tenant("acme");
            ApiKey first = key("acme-k1", "acme", T0.plusMillis(1_001));

            assertThat(tenants.create(tenant, first)).isTrue();

            Tenant found = found("acme");
            assertThat(found).isEqualTo(tenant);
            // The same, spelled out, so a failure names the field.
            assertThat(found.name()).isEqualTo("acme");
            assertThat(found.weight()).isEqualTo(7);
            assertThat(found.quotas().maxPendingJobs()).isEqualTo(1_234_567);
            assertThat(found.quotas().schedulesPerSecond()).isEqualTo(89);
            assertThat(found.quotas().scheduleBurst()).isEqualTo(1_011);
            assertThat(found.quotas().maxPayloadBytes()).isEqualTo(12_345);
            assertThat(found.quotas().maxDelay()).isEqualTo(Duration.ofDays(7).plusMillis(5));
            assertThat(found.quotas().maxInFlight()).isEqualTo(17);
            assertThat(found.webhookSecrets()).as("newest first, as given")
                    .containsExactly("whsec_bbbb", "whsec_cccc", "whsec_aaaa");
            assertThat(found.targets().raiseAt()).isEqualTo(0.3);
            assertThat(found.targets().clearAt()).isEqualTo(0.1);
            assertThat(found.targets().minAttempts()).isEqualTo(33);
            assertThat(found.targets().consecutiveFailures()).isEqualTo(7);
            assertThat(found.targets().autoPause()).isTrue();
            assertThat(found.targets().autoPauseAfterSeconds()).isEqualTo(3_601);
            assertThat(found.targets().operationsWebhook())
                    .isEqualTo(URI.create("https://ops.example.com/hooks/hourglass?team=a%20b"));
            assertThat(found.createdAt()).isEqualTo(T0.plusMillis(123));
            assertThat(found.updatedAt()).isEqualTo(T0.plusMillis(456));

            assertThat(tenants.keys("acme")).containsExactly(first);
            assertThat(tenants.findKeyByHash(first.hash())).contains(first);
            assertThat(tenants.activeKeys()).containsExactly(first);
        }

        @Test
        void roundTripsTheQueueConnectionsATenantMayUse() {
            Tenant every = new Tenant("every", 1, Quotas.DEFAULTS, List.of("whsec_e"), TARGETS, T0, T0);
            Tenant some = every.withConnections(java.util.Set.of("mq", "orders-kafka"));
            Tenant none = every.withConnections(java.util.Set.of());
            create(every);
            create(new Tenant("some", 1, Quotas.DEFAULTS, List.of("whsec_s"), TARGETS, T0, T0, some.connections()));
            create(new Tenant("none", 1, Quotas.DEFAULTS, List.of("whsec_n"), TARGETS, T0, T0, none.connections()));

            assertThat(found("every").connections()).as("null: every connection").isNull();
            assertThat(found("every").mayUse("anything")).isTrue();
            assertThat(found("some").connections()).containsExactlyInAnyOrder("mq", "orders-kafka");
            assertThat(found("some").mayUse("r")).isFalse();
            assertThat(found("none").connections()).isEmpty();

            assertThat(tenants.update(found("every").withConnections(java.util.Set.of("r")))).isTrue();
            assertThat(found("every").connections()).containsExactly("r");
            assertThat(tenants.update(found("every").withConnections(null))).isTrue();
            assertThat(found("every").connections()).isNull();
        }

        @Test
        void roundTripsQuotasAtTheEdgesOfTheirRanges() {
            Quotas largest = new Quotas(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE,
                    Duration.ofMillis(Long.MAX_VALUE), Integer.MAX_VALUE);
            Quotas smallest = new Quotas(1, 1, 1, 0, Duration.ofMillis(1), 1);
            Tenant large = new Tenant("large", Tenant.MAX_WEIGHT, largest, List.of("whsec_x"), TARGETS, T0, T0);
            Tenant small = new Tenant("small", 1, smallest, List.of("whsec_y"), TARGETS, T0.minusMillis(1),
                    T0.plusMillis(1));

            create(large);
            create(small);

            assertThat(found("large")).isEqualTo(large);
            assertThat(found("small")).isEqualTo(small);
        }

        @Test
        void roundTripsASingleSecretAndTheDefaultQuotas() {
            Tenant tenant = new Tenant("one", 1, Quotas.DEFAULTS, List.of("whsec_only"), TargetSettings.DEFAULTS,
                    T0, T0);

            create(tenant);

            assertThat(found("one")).isEqualTo(tenant);
        }

        @Test
        void roundTripsTargetSettingsAtTheEdgesOfTheirRanges() {
            TargetSettings widest = new TargetSettings(1.0, 0.0, Long.MAX_VALUE, Integer.MAX_VALUE, false,
                    TargetSettings.MAX_AUTO_PAUSE_AFTER_SECONDS, URI.create("http://[2001:db8::1]:8443/ops"));
            TargetSettings narrowest = new TargetSettings(Double.MIN_VALUE, 0.0, 1, 1, true,
                    TargetSettings.MIN_AUTO_PAUSE_AFTER_SECONDS, null);
            Tenant wide = tenant("wide").withTargets(widest);
            Tenant narrow = tenant("narrow").withTargets(narrowest);

            create(wide);
            create(narrow);

            assertThat(found("wide").targets()).isEqualTo(widest);
            assertThat(found("narrow").targets()).isEqualTo(narrowest);
        }

        @Test
        void targetSettingsLeftNullReadAsTheirDefaults() {
            create(tenant("acme"));
            // A row written before V6 had these columns: NULL in every one.
            ((SqlDatabase) store).writeSql("clear target settings", connection -> {
                try (var clear = connection.prepareStatement("UPDATE tenants SET target_raise_at = NULL, "
                        + "target_clear_at = NULL, target_min_attempts = NULL, target_consecutive_failures = NULL, "
                        + "target_auto_pause = NULL, target_auto_pause_after_s = NULL, operations_webhook = NULL")) {
                    return clear.executeUpdate();
                }
            });

            assertThat(found("acme").targets()).isEqualTo(TargetSettings.DEFAULTS);
            assertThat(found("acme")).isEqualTo(tenant("acme").withTargets(TargetSettings.DEFAULTS));
        }

        @Test
        void aFirstKeyThatIsAlreadyRevokedIsStoredRevoked() {
            ApiKey revoked = new ApiKey("k", "acme", sha256Hex("k"), T0, T0.plusMillis(1));

            assertThat(tenants.create(tenant("acme"), revoked)).isTrue();

            assertThat(tenants.keys("acme")).containsExactly(revoked);
            assertThat(tenants.activeKeys()).isEmpty();
        }

        @Test
        void findOfAnUnknownNameIsEmpty() {
            create(tenant("acme"));

            assertThat(tenants.find("other")).isEmpty();
            assertThat(tenants.find("acm")).isEmpty();
        }

        @Test
        void createOfAnExistingNameReturnsFalseAndChangesNothing() {
            Tenant original = tenant("acme");
            ApiKey first = create(original);
            Tenant other = new Tenant("acme", 99, Quotas.DEFAULTS, List.of("whsec_other"), TargetSettings.DEFAULTS,
                    T0.plusSeconds(9), T0.plusSeconds(9));
            ApiKey second = key("acme-k2", "acme");

            assertThat(tenants.create(other, second)).isFalse();

            assertThat(found("acme")).isEqualTo(original);
            assertThat(tenants.keys("acme")).containsExactly(first);
            assertThat(tenants.findKeyByHash(second.hash())).isEmpty();
            assertThat(tenants.list()).hasSize(1);
        }

        @Test
        void createWithAKeyOfAnotherTenantIsRefused() {
            assertThatThrownBy(() -> tenants.create(tenant("acme"), key("k", "other")))
                    .isInstanceOf(IllegalArgumentException.class);

            assertThat(tenants.list()).isEmpty();
            assertThat(tenants.activeKeys()).isEmpty();
        }

        @Test
        void createWithQuotasOutOfRangeIsRefusedNamingTheField() {
            Quotas invalid = new Quotas(0, 1, 1, 0, Duration.ofSeconds(1), 1);

            assertThatThrownBy(() -> tenants.create(tenant("acme").withQuotas(invalid), key("k", "acme")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxPendingJobs");

            assertThat(tenants.find("acme")).isEmpty();
        }

        @Test
        void createWithATakenKeyHashFailsAndWritesNothing() {
            ApiKey taken = create(tenant("acme"));
            ApiKey sameHash = new ApiKey("other-k1", "other", taken.hash(), T0, null);

            assertThatThrownBy(() -> tenants.create(tenant("other"), sameHash)).isInstanceOf(StoreException.class);

            assertThat(tenants.find("other")).as("the tenant is rolled back with its key").isEmpty();
            assertThat(tenants.findKeyByHash(taken.hash())).contains(taken);
            assertThat(tenants.create(tenant("other"), key("other-k1", "other"))).as("the name is still free")
                    .isTrue();
        }

        @Test
        void createWithATakenKeyIdFailsAndWritesNothing() {
            ApiKey taken = create(tenant("acme"));
            ApiKey sameId = new ApiKey(taken.id(), "other", sha256Hex("different"), T0, null);

            assertThatThrownBy(() -> tenants.create(tenant("other"), sameId)).isInstanceOf(StoreException.class);

            assertThat(tenants.find("other")).isEmpty();
            assertThat(tenants.keys("acme")).containsExactly(taken);
        }

        @Test
        void concurrentCreatesOfOneNameHaveExactlyOneWinner() throws Exception {
            int threads = 8;
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                for (int i = 0; i < threads; i++) {
                    int n = i;
                    results.add(pool.submit(() -> {
                        go.await();
                        return tenants.create(tenant("race").withWeight(n + 1), key("race-k" + n, "race"));
                    }));
                }
                go.countDown();
                int winners = 0;
                for (Future<Boolean> result : results) {
                    winners += result.get(60, TimeUnit.SECONDS) ? 1 : 0;
                }
                assertThat(winners).isEqualTo(1);
            }
            List<ApiKey> keys = tenants.keys("race");
            assertThat(keys).as("only the winner's key").hasSize(1);
            int winner = Integer.parseInt(keys.getFirst().id().substring("race-k".length()));
            assertThat(found("race").weight()).as("the winner's tenant").isEqualTo(winner + 1);
        }
    }

    @Nested
    class ListTenants {

        @Test
        void isEmptyWithoutTenants() {
            assertThat(tenants.list()).isEmpty();
        }

        @Test
        void isOrderedByNameAsStringsCompare() {
            // Punctuation and digits included: a locale collation (which skips punctuation) would order these
            // differently from String.compareTo.
            List<String> names = List.of("b", "a_b", "ab", "a1", "a.b", "a-b", "a", "0z", "a-a");
            for (String name : names) {
                create(tenant(name));
            }

            List<Tenant> listed = tenants.list();

            assertThat(names(listed)).containsExactlyElementsOf(names.stream().sorted().toList());
            assertThat(listed).allSatisfy(t -> assertThat(t).isEqualTo(tenant(t.name())));
        }
    }

    @Nested
    class Update {

        @Test
        void replacesWeightQuotasSecretsAndUpdatedAtButKeepsCreatedAt() {
            create(tenant("acme"));
            create(tenant("other"));
            Quotas quotas = new Quotas(5, 6, 7, 8, Duration.ofMillis(9_001), 10);
            Tenant changed = new Tenant("acme", 3, quotas, List.of("whsec_new", "whsec_bbbb"),
                    TargetSettings.DEFAULTS.withAutoPause(true, 60), T0.plusSeconds(1_000), T0.plusMillis(99_999));

            assertThat(tenants.update(changed)).isTrue();

            Tenant found = found("acme");
            assertThat(found.weight()).isEqualTo(3);
            assertThat(found.quotas()).isEqualTo(quotas);
            assertThat(found.webhookSecrets()).containsExactly("whsec_new", "whsec_bbbb");
            assertThat(found.targets()).as("target settings, the operations webhook removed")
                    .isEqualTo(TargetSettings.DEFAULTS.withAutoPause(true, 60));
            assertThat(found.updatedAt()).isEqualTo(T0.plusMillis(99_999));
            assertThat(found.createdAt()).as("createdAt is not updated").isEqualTo(T0.plusMillis(123));
            assertThat(found("other")).as("other tenants are untouched").isEqualTo(tenant("other"));
            assertThat(tenants.keys("acme")).as("keys are untouched").hasSize(1);
        }

        @Test
        void ofAnUnknownTenantReturnsFalseAndCreatesNothing() {
            create(tenant("acme"));

            assertThat(tenants.update(tenant("other").withWeight(2))).isFalse();

            assertThat(tenants.find("other")).isEmpty();
            assertThat(found("acme")).isEqualTo(tenant("acme"));
        }

        @Test
        void withQuotasOutOfRangeIsRefusedAndChangesNothing() {
            create(tenant("acme"));
            Quotas invalid = new Quotas(1, 1, 1, 0, Duration.ZERO, 1);

            assertThatThrownBy(() -> tenants.update(tenant("acme").withQuotas(invalid)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxDelay");

            assertThat(found("acme")).isEqualTo(tenant("acme"));
        }
    }

    @Nested
    class Keys {

        @Test
        void addKeyAddsAndKeysListsThemOldestFirstRevokedIncluded() {
            ApiKey first = create(tenant("acme"));
            ApiKey newest = key("b-newest", "acme", T0.plusSeconds(30));
            ApiKey older = key("c-older", "acme", T0.plusSeconds(10));
            ApiKey sameMillisAsOlder = key("a-same-millis", "acme", T0.plusSeconds(10));

            // Added out of time order: the order comes from createdAt (then id), not from insertion.
            assertThat(tenants.addKey(newest)).isTrue();
            assertThat(tenants.addKey(older)).isTrue();
            assertThat(tenants.addKey(sameMillisAsOlder)).isTrue();
            assertThat(tenants.revokeKey("acme", older.id(), T0.plusSeconds(40))).isTrue();

            assertThat(ids(tenants.keys("acme")))
                    .containsExactly(first.id(), sameMillisAsOlder.id(), older.id(), newest.id());
            assertThat(tenants.keys("acme").get(2).revokedAt()).isEqualTo(T0.plusSeconds(40));
            assertThat(tenants.keys("acme").get(3)).isEqualTo(newest);
        }

        @Test
        void keysOfAnUnknownTenantAreEmpty() {
            create(tenant("acme"));

            assertThat(tenants.keys("other")).isEmpty();
        }

        @Test
        void addKeyToAnUnknownTenantReturnsFalseAndWritesNothing() {
            ApiKey orphan = key("orphan", "nobody");

            assertThat(tenants.addKey(orphan)).isFalse();

            assertThat(tenants.findKeyByHash(orphan.hash())).isEmpty();
            assertThat(tenants.keys("nobody")).isEmpty();
            assertThat(tenants.find("nobody")).isEmpty();
        }

        @Test
        void aTakenHashIsRejectedEvenForAnotherTenant() {
            ApiKey taken = create(tenant("acme"));
            create(tenant("other"));

            assertThatThrownBy(() -> tenants.addKey(new ApiKey("acme-k2", "acme", taken.hash(), T0, null)))
                    .isInstanceOf(StoreException.class);
            assertThatThrownBy(() -> tenants.addKey(new ApiKey("other-k2", "other", taken.hash(), T0, null)))
                    .isInstanceOf(StoreException.class);

            assertThat(tenants.findKeyByHash(taken.hash())).contains(taken);
            assertThat(tenants.keys("acme")).containsExactly(taken);
            assertThat(tenants.keys("other")).hasSize(1);
        }

        @Test
        void aTakenIdIsRejected() {
            ApiKey taken = create(tenant("acme"));

            assertThatThrownBy(() -> tenants.addKey(new ApiKey(taken.id(), "acme", sha256Hex("x"), T0, null)))
                    .isInstanceOf(StoreException.class);

            assertThat(tenants.keys("acme")).containsExactly(taken);
        }

        @Test
        void revokeKeyIsIdempotentAndKeepsTheFirstTime() {
            ApiKey key = create(tenant("acme"));

            assertThat(tenants.revokeKey("acme", key.id(), T0.plusMillis(5_001))).isTrue();
            assertThat(tenants.revokeKey("acme", key.id(), T0.plusMillis(9_002))).as("again").isTrue();

            ApiKey revoked = tenants.keys("acme").getFirst();
            assertThat(revoked.revokedAt()).isEqualTo(T0.plusMillis(5_001));
            assertThat(revoked.active()).isFalse();
            assertThat(revoked).isEqualTo(new ApiKey(key.id(), "acme", key.hash(), key.createdAt(),
                    T0.plusMillis(5_001)));
        }

        @Test
        void revokeKeyOfAnUnknownKeyOrTenantOrOfAnotherTenantReturnsFalse() {
            ApiKey acmeKey = create(tenant("acme"));
            ApiKey otherKey = create(tenant("other"));

            assertThat(tenants.revokeKey("acme", "no-such-key", T0)).isFalse();
            assertThat(tenants.revokeKey("nobody", acmeKey.id(), T0)).isFalse();
            assertThat(tenants.revokeKey("acme", otherKey.id(), T0)).as("a key of another tenant").isFalse();

            assertThat(tenants.activeKeys()).containsExactlyInAnyOrder(acmeKey, otherKey);
        }

        @Test
        void findKeyByHashFindsActiveAndRevokedKeys() {
            ApiKey active = create(tenant("acme"));
            ApiKey revoked = key("acme-k2", "acme");
            assertThat(tenants.addKey(revoked)).isTrue();
            assertThat(tenants.revokeKey("acme", revoked.id(), T0.plusMillis(7))).isTrue();

            assertThat(tenants.findKeyByHash(active.hash())).contains(active);
            assertThat(tenants.findKeyByHash(revoked.hash())).hasValueSatisfying(found -> {
                assertThat(found.id()).isEqualTo(revoked.id());
                assertThat(found.revokedAt()).isEqualTo(T0.plusMillis(7));
            });
            assertThat(tenants.findKeyByHash(sha256Hex("unknown"))).isEmpty();
        }

        @Test
        void activeKeysAreEveryTenantsUnrevokedKeys() {
            ApiKey acme1 = create(tenant("acme"));
            ApiKey other1 = create(tenant("other"));
            ApiKey acme2 = key("acme-k2", "acme", T0.plusSeconds(1));
            ApiKey other2 = key("other-k2", "other", T0.plusSeconds(2));
            assertThat(tenants.addKey(acme2)).isTrue();
            assertThat(tenants.addKey(other2)).isTrue();
            assertThat(tenants.revokeKey("acme", acme1.id(), T0.plusSeconds(3))).isTrue();
            assertThat(tenants.revokeKey("other", other2.id(), T0.plusSeconds(3))).isTrue();

            assertThat(tenants.activeKeys()).containsExactlyInAnyOrder(acme2, other1);
            assertThat(tenants.activeKeys()).allSatisfy(k -> assertThat(k.active()).isTrue());
        }
    }

    @Nested
    class PendingJobs {

        private Job insert(NewJob newJob) {
            InsertResult result = store.write(Durability.FSYNC, tx -> tx.insert(List.of(newJob))).getFirst();
            assertThat(result).isInstanceOf(InsertResult.Created.class);
            return result.job();
        }

        /** A RUNNING job of {@code tenant}: inserted claimed by a node, then started. */
        private Job running(String tenant) {
            Job claimed = insert(job().tenant(tenant).owner("node-a").build());
            return store.write(Durability.LAZY, tx -> tx.start(List.of(new StartRun(claimed.id(), claimed.owner(),
                    claimed.fencingToken(), T0)))).getFirst().orElseThrow();
        }

        private Job finished(String tenant, JobState state) {
            Job run = running(tenant);
            boolean finished = store.write(Durability.LAZY, tx -> tx.finish(List.of(new FinishRun(run.id(),
                    run.owner(), run.fencingToken(), state, null, null, state == JobState.FAILED ? "boom" : null,
                    T0.plusSeconds(1))))).getFirst();
            assertThat(finished).isTrue();
            return run;
        }

        private Job cancelled(String tenant) {
            Job scheduled = insert(job().tenant(tenant).build());
            ChangeResult result = store.write(Durability.FSYNC,
                    tx -> tx.cancel(List.of(new CancelRequest(scheduled.id(), tenant, T0)))).getFirst();
            assertThat(result).isInstanceOf(ChangeResult.Changed.class);
            return scheduled;
        }

        @Test
        void isEmptyWithoutJobs() {
            create(tenant("acme"));

            assertThat(tenants.pendingJobs()).isEmpty();
        }

        @Test
        void countsScheduledAndRunningJobsPerTenantAndSkipsTerminalOnes() {
            insert(job().tenant("acme").build());
            insert(job().tenant("acme").dueIn(60).build());
            running("acme");
            finished("acme", JobState.SUCCEEDED);
            cancelled("acme");
            insert(job().tenant("beta").build());
            finished("beta", JobState.FAILED);
            running("gamma");
            running("gamma");
            finished("done", JobState.SUCCEEDED);
            cancelled("done");
            finished("done", JobState.FAILED);

            Map<String, Long> pending = tenants.pendingJobs();

            assertThat(pending).containsExactlyInAnyOrderEntriesOf(Map.of("acme", 3L, "beta", 1L, "gamma", 2L));
        }

        @Test
        void countsJobsWhetherOrNotTheirTenantHasARow() {
            create(tenant("acme"));
            insert(job().tenant("acme").build());
            insert(job().tenant("default").build()); // single-tenant jobs have no tenant row

            assertThat(tenants.pendingJobs()).containsExactlyInAnyOrderEntriesOf(Map.of("acme", 1L, "default", 1L));
        }
    }

    @Nested
    class Errors {

        @Test
        void aClosedStoreFailsEveryCallWithAStoreException() {
            ApiKey key = create(tenant("acme"));
            store.close();

            List<ThrowingCallable> calls = List.of(
                    () -> tenants.create(tenant("other"), key("other-k1", "other")),
                    () -> tenants.find("acme"),
                    () -> tenants.list(),
                    () -> tenants.update(tenant("acme").withWeight(2)),
                    () -> tenants.addKey(key("acme-k2", "acme")),
                    () -> tenants.revokeKey("acme", key.id(), T0),
                    () -> tenants.keys("acme"),
                    () -> tenants.findKeyByHash(key.hash()),
                    () -> tenants.activeKeys(),
                    () -> tenants.pendingJobs());
            for (ThrowingCallable call : calls) {
                assertThatThrownBy(call).isInstanceOf(StoreException.class);
            }
        }
    }
}
