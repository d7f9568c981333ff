package dev.hourglass.tenancy;

import dev.hourglass.core.api.TenantShares;
import dev.hourglass.core.store.StoreException;
import dev.hourglass.core.supervision.Supervision;
import dev.hourglass.core.targets.TargetPolicy;
import dev.hourglass.webhook.signing.SigningSecret;
import dev.hourglass.webhook.signing.WebhookSecrets;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tenants and API keys, in memory, so that authenticating a request and reading its tenant's quotas cost no
 * database round trip. The {@link TenantStore} is the truth; this is a snapshot of it, replaced as a whole (so a
 * reader sees one consistent version) by a full reload every {@code refreshEvery} and at once after each change made
 * through this node. A change made through another node of a cluster (a new key, a revocation, a quota) therefore
 * applies here within one refresh interval; while the database is unreachable the last snapshot stays in use.
 *
 * <p>Unknown keys never reach the database: a key issued elsewhere less than one interval ago is refused here until
 * the next refresh, which keeps a flood of made-up keys from turning into a flood of queries.
 *
 * <p>The engine asks it for each tenant's weight and delivery limit ({@link TenantShares}) as it fires, so a change
 * of either applies within one refresh, without a restart.
 *
 * <p>Webhook secrets: every tenant signs with its own stored secrets, except {@value #DEFAULT_TENANT}, whose
 * secrets are the server's configured ones (copied into its row at each start), so that a single-team install keeps
 * one secret in one place. A tenant unknown to the directory (jobs scheduled by the library) signs with those too.
 *
 * <p>Target settings ({@link #targetPolicy}, {@link #operationsWebhook}) follow the same rule: every tenant is
 * watched by its own stored {@link TargetSettings}, except {@value #DEFAULT_TENANT} and tenants the directory does not
 * know, which take the server's ({@code --target-auto-pause}, {@code --target-auto-pause-after},
 * {@code --operations-webhook}; copied into the default tenant's row at each start, so that the admin API shows
 * them). The server passes both to {@code Hourglass.Builder#watchTargets}, which asks them per tenant as it judges
 * each target, so a change applies within one refresh, without a restart.
 */
public final class TenantDirectory implements WebhookSecrets, TenantShares, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TenantDirectory.class);
    public static final String DEFAULT_TENANT = "default";
    public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(1);

    /**
     * One consistent view: tenants by name, the tenant of each active key hash, and each tenant's webhook secrets
     * parsed once (not on every delivery).
     */
    private record Snapshot(Map<String, Tenant> tenants, Map<String, String> tenantByKeyHash,
            Map<String, List<SigningSecret>> secrets) {}

    private final TenantStore store;
    private final InstantSource wallClock;
    private final List<SigningSecret> serverSecrets;
    private final TargetSettings serverTargets;
    private final ScheduledExecutorService refresher;
    private volatile Snapshot snapshot = new Snapshot(Map.of(), Map.of(), Map.of());
    /** Whether the last refresh failed: logs an outage once, not once per interval. */
    private volatile boolean refreshFailing;

    /**
     * @param serverSecrets the server's configured webhook secrets, newest first: the default tenant's, and those
     *     of tenants the directory does not know
     */
    public TenantDirectory(TenantStore store, InstantSource wallClock, List<SigningSecret> serverSecrets) {
        this(store, wallClock, serverSecrets, TargetSettings.DEFAULTS);
    }

    /**
     * @param serverSecrets the server's configured webhook secrets, newest first: the default tenant's, and those
     *     of tenants the directory does not know
     * @param serverTargets the server's configured target settings: the default tenant's, and those of tenants the
     *     directory does not know
     */
    public TenantDirectory(TenantStore store, InstantSource wallClock, List<SigningSecret> serverSecrets,
            TargetSettings serverTargets) {
        this.store = store;
        this.wallClock = wallClock;
        this.serverSecrets = List.copyOf(serverSecrets);
        this.serverTargets = Objects.requireNonNull(serverTargets, "serverTargets");
        this.refresher = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("hourglass-tenants").daemon(true).factory());
    }

    /** The outcome of {@link #bootstrap}: the default tenant's key when this start generated it (show it once). */
    public record Bootstrap(String generatedDefaultKey) {
        @Override
        public String toString() {
            return "Bootstrap[generated=" + (generatedDefaultKey != null) + "]";
        }
    }

    /**
     * Makes sure the {@value #DEFAULT_TENANT} tenant exists with the server's webhook secrets and target settings,
     * and, when
     * {@code presetKey} is given ({@code HOURGLASS_DEFAULT_API_KEY}), that this key is one of its keys. On the first
     * start of an empty store without a preset key, a key is generated and returned, to be shown once. Then loads
     * the snapshot and starts the periodic refresh.
     *
     * @throws StoreException when the store cannot be reached
     * @throws IllegalArgumentException when the preset key is malformed, or belongs to another tenant
     */
    public Bootstrap start(String presetKey, Duration refreshEvery) {
        Instant now = wallClock.instant();
        List<String> secrets = serverSecrets.stream().map(SigningSecret::encoded).toList();
        String generated = null;
        Optional<Tenant> existing = store.find(DEFAULT_TENANT);
        if (existing.isEmpty()) {
            boolean firstStart = store.list().isEmpty();
            ApiKeys.Issued key = presetKey != null ? ApiKeys.preset(DEFAULT_TENANT, presetKey, now)
                    : ApiKeys.issue(DEFAULT_TENANT, now);
            Tenant tenant = new Tenant(DEFAULT_TENANT, 1, Quotas.DEFAULTS, secrets, serverTargets, now, now);
            if (store.create(tenant, key.stored())) {
                if (presetKey == null) {
                    generated = key.text();
                }
                log.info("created tenant '{}' with key {}{}", DEFAULT_TENANT, key.stored().id(),
                        firstStart ? " (first start)" : "");
            }
        } else if (!existing.get().webhookSecrets().equals(secrets)
                || !existing.get().targets().equals(serverTargets)) {
            store.update(existing.get().withWebhookSecrets(secrets).withTargets(serverTargets).withUpdatedAt(now));
        }
        if (presetKey != null) {
            ensurePresetKey(presetKey, now);
        }
        refresh();
        long every = refreshEvery.toMillis();
        refresher.scheduleWithFixedDelay(Supervision.reportingErrors("tenant refresh", this::refreshQuietly), every,
                every, TimeUnit.MILLISECONDS);
        return new Bootstrap(generated);
    }

    private void ensurePresetKey(String presetKey, Instant now) {
        ApiKeys.Issued key = ApiKeys.preset(DEFAULT_TENANT, presetKey, now);
        Optional<ApiKey> stored = store.findKeyByHash(key.stored().hash());
        if (stored.isEmpty()) {
            store.addKey(key.stored());
            log.info("added the preset key {} to tenant '{}'", key.stored().id(), DEFAULT_TENANT);
        } else if (!stored.get().tenant().equals(DEFAULT_TENANT)) {
            throw new IllegalArgumentException("the preset default API key is a key of tenant '"
                    + stored.get().tenant() + "', not of '" + DEFAULT_TENANT + "'");
        } else if (!stored.get().active()) {
            log.warn("the preset default API key ({}) was revoked at {}; it stays revoked", stored.get().id(),
                    stored.get().revokedAt());
        }
    }

    /** Reloads the snapshot from the store now. @throws StoreException when the store cannot be reached */
    public void refresh() {
        Map<String, Tenant> tenants = store.list().stream()
                .collect(Collectors.toUnmodifiableMap(Tenant::name, Function.identity()));
        Map<String, String> keys = store.activeKeys().stream()
                .collect(Collectors.toUnmodifiableMap(ApiKey::hash, ApiKey::tenant, (a, b) -> a));
        Map<String, List<SigningSecret>> secrets = tenants.values().stream()
                .collect(Collectors.toUnmodifiableMap(Tenant::name,
                        t -> t.webhookSecrets().stream().map(SigningSecret::parse).toList()));
        snapshot = new Snapshot(tenants, keys, secrets);
    }

    private void refreshQuietly() {
        try {
            refresh();
            if (refreshFailing) {
                refreshFailing = false;
                log.info("tenant directory: the store answers again");
            }
        } catch (RuntimeException e) {
            if (!refreshFailing) {
                refreshFailing = true;
                log.warn("tenant directory: cannot refresh ({}); using the last snapshot until the store answers",
                        e.toString());
            }
        }
    }

    /** The tenant an API key acts for, if the key is known and not revoked. Never touches the store. */
    public Optional<Tenant> tenantForKey(String keyText) {
        Snapshot s = snapshot;
        String tenant = s.tenantByKeyHash().get(ApiKeys.hash(keyText));
        return tenant == null ? Optional.empty() : Optional.ofNullable(s.tenants().get(tenant));
    }

    /** The tenant of that name, from the snapshot. */
    public Optional<Tenant> tenant(String name) {
        return Optional.ofNullable(snapshot.tenants().get(name));
    }

    /** The tenant's weight for fair firing; 1 for a tenant the directory does not know. */
    @Override
    public int weight(String tenant) {
        Tenant t = snapshot.tenants().get(tenant);
        return t == null ? 1 : t.weight();
    }

    /** The tenant's limit of deliveries at once; the default quota for a tenant the directory does not know. */
    @Override
    public int maxInFlight(String tenant) {
        Tenant t = snapshot.tenants().get(tenant);
        return (t == null ? Quotas.DEFAULTS : t.quotas()).maxInFlight();
    }

    @Override
    public List<SigningSecret> secretsFor(String tenant) {
        List<SigningSecret> own = snapshot.secrets().get(tenant);
        return own == null || tenant.equals(DEFAULT_TENANT) ? serverSecrets : own;
    }

    /**
     * The tenant's target settings, from the snapshot; the server's for {@value #DEFAULT_TENANT} and for a tenant the
     * directory does not know. Never touches the store.
     */
    public TargetSettings targetSettings(String tenant) {
        Tenant t = snapshot.tenants().get(tenant);
        return t == null || tenant.equals(DEFAULT_TENANT) ? serverTargets : t.targets();
    }

    /**
     * What the target monitor judges the tenant's targets by ({@link TargetSettings#policy()} of
     * {@link #targetSettings}); the server passes it to {@code Hourglass.Builder#watchTargets}.
     */
    public TargetPolicy targetPolicy(String tenant) {
        return targetSettings(tenant).policy();
    }

    /**
     * Where the tenant's operations events ({@code target.alarm.raised}, {@code target.alarm.cleared},
     * {@code target.paused}, {@code target.resumed}, {@code job.failed}) are sent, if anywhere
     * ({@link #targetSettings}); the server passes it to {@code Hourglass.Builder#watchTargets} with
     * {@link #targetPolicy}.
     */
    public Optional<URI> operationsWebhook(String tenant) {
        return Optional.ofNullable(targetSettings(tenant).operationsWebhook());
    }

    /** The server's target settings: the default tenant's, and those of tenants the directory does not know. */
    public TargetSettings serverTargets() {
        return serverTargets;
    }

    // ---- changes (the admin API); each writes the store, then reloads the snapshot ----

    /** A tenant as created: the stored tenant and its first key's text (to show once). */
    public record Created(Tenant tenant, ApiKeys.Issued key) {}

    /** Creates a tenant with one key and one new webhook secret; empty if the name is taken. */
    public Optional<Created> create(String name, int weight, Quotas quotas) {
        return create(name, weight, quotas, TargetSettings.DEFAULTS);
    }

    /**
     * Creates a tenant with one key, one new webhook secret and these target settings; empty if the
     * name is taken.
     */
    public Optional<Created> create(String name, int weight, Quotas quotas, TargetSettings targets) {
        return create(name, weight, quotas, targets, null);
    }

    /**
     * Creates a tenant with one key, one new webhook secret, these target settings and these queue connections
     * (null: every one); empty if the name is taken.
     */
    public Optional<Created> create(String name, int weight, Quotas quotas, TargetSettings targets,
            java.util.Set<String> connections) {
        Instant now = wallClock.instant();
        Tenant tenant = new Tenant(name, weight, quotas.validate(), List.of(SigningSecret.generate().encoded()),
                targets, now, now, connections);
        ApiKeys.Issued key = ApiKeys.issue(name, now);
        if (!store.create(tenant, key.stored())) {
            return Optional.empty();
        }
        refresh();
        return Optional.of(new Created(tenant, key));
    }

    /** Every tenant, by name, read from the store (not the snapshot: the admin sees the truth). */
    public List<Tenant> list() {
        return store.list();
    }

    public Optional<Tenant> find(String name) {
        return store.find(name);
    }

    /** Applies {@code change} to the stored tenant; empty if there is no such tenant. */
    public Optional<Tenant> update(String name, Function<Tenant, Tenant> change) {
        Optional<Tenant> current = store.find(name);
        if (current.isEmpty()) {
            return Optional.empty();
        }
        Tenant changed = change.apply(current.get()).withUpdatedAt(wallClock.instant());
        changed.quotas().validate();
        if (!store.update(changed)) {
            return Optional.empty();
        }
        refresh();
        return Optional.of(changed);
    }

    /** Issues another key for the tenant (rotation); empty if there is no such tenant. */
    public Optional<ApiKeys.Issued> issueKey(String tenant) {
        ApiKeys.Issued key = ApiKeys.issue(tenant, wallClock.instant());
        if (!store.addKey(key.stored())) {
            return Optional.empty();
        }
        refresh();
        return Optional.of(key);
    }

    /** Revokes a key of the tenant; empty if the tenant has no such key. Returns the key as stored. */
    public Optional<ApiKey> revokeKey(String tenant, String keyId) {
        if (!store.revokeKey(tenant, keyId, wallClock.instant())) {
            return Optional.empty();
        }
        refresh();
        return store.keys(tenant).stream().filter(k -> k.id().equals(keyId)).findFirst();
    }

    public List<ApiKey> keys(String tenant) {
        return store.keys(tenant);
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
