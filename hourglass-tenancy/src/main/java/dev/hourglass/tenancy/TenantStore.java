package dev.hourglass.tenancy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where tenants and the hashes of their API keys live: in the same database as the jobs, so that every node of a
 * cluster sees the same tenants. Off the hot path: the server reads it into memory and refreshes, so that no
 * schedule call waits for it. Every method is its own transaction; all are safe from any thread.
 *
 * <p>Throws {@link dev.hourglass.core.store.StoreException} when the database cannot be reached (a store whose job
 * methods report an outage as {@link dev.hourglass.core.store.StoreUnavailableException} does so here too), and when a
 * write breaks a constraint the store keeps: a key id or key hash that is already taken. Writes are durable when
 * they return, as {@link dev.hourglass.core.store.Durability#FSYNC} job writes are. Instants and
 * {@link Quotas#maxDelay()} are kept to the millisecond; anything finer is truncated.
 */
public interface TenantStore {

    /**
     * Creates {@code tenant} together with its first key, atomically. Returns false, writing nothing, when a tenant
     * of that name exists. The key's tenant must be {@code tenant.name()}.
     *
     * @throws IllegalArgumentException if the key belongs to another tenant, or the quotas fail
     *     {@link Quotas#validate()}
     * @throws dev.hourglass.core.store.StoreException if the key's id or hash is taken (then nothing is written)
     */
    boolean create(Tenant tenant, ApiKey firstKey);

    Optional<Tenant> find(String name);

    /** Every tenant, by name ({@link String#compareTo} order). */
    List<Tenant> list();

    /**
     * Replaces the weight, quotas, secrets, target settings and updatedAt of the tenant of that name (its createdAt
     * stays); false if there is none.
     *
     * @throws IllegalArgumentException if the quotas fail {@link Quotas#validate()}
     */
    boolean update(Tenant tenant);

    /**
     * Adds a key to an existing tenant; false (nothing written) if the tenant does not exist.
     *
     * @throws dev.hourglass.core.store.StoreException if the key's id or hash is taken
     */
    boolean addKey(ApiKey key);

    /**
     * Revokes key {@code keyId} of {@code tenant} at {@code at}; false if the tenant has no such key. Revoking a
     * revoked key keeps the first revocation time and returns true.
     */
    boolean revokeKey(String tenant, String keyId, Instant at);

    /** The keys of a tenant, revoked ones included, oldest first (by createdAt, then id); empty if none. */
    List<ApiKey> keys(String tenant);

    /** The key with this hash, revoked or not. */
    Optional<ApiKey> findKeyByHash(String hash);

    /** Every key that is not revoked (the server's in-memory key cache). */
    List<ApiKey> activeKeys();

    /**
     * The number of jobs per tenant that are SCHEDULED or RUNNING; tenants with none are absent. A full count: the
     * server calls it in the background to correct its in-memory pending counters, never on a request.
     */
    Map<String, Long> pendingJobs();
}
