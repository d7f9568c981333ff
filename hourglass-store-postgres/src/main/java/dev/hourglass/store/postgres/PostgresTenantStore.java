package dev.hourglass.store.postgres;

import dev.hourglass.core.tenant.ApiKey;
import dev.hourglass.core.tenant.Quotas;
import dev.hourglass.core.tenant.Tenant;
import dev.hourglass.core.tenant.TenantStore;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The tenants and API keys of a {@link PostgresJobStore}, in the tables of {@code V2__tenants.sql}, in the store's
 * schema: the pool's connections have it first on their search path (as the job statements rely on), so the
 * statements name the tables unqualified.
 *
 * <p>Writes run in FSYNC transactions through {@link PostgresJobStore#writeAdmin} (durable on return, rolled back on
 * failure, outages reported as {@link dev.hourglass.core.store.StoreUnavailableException}); reads through the
 * store's autocommit reads. Several nodes may write at once: {@link #create} arbitrates a name with
 * {@code ON CONFLICT DO NOTHING}, which waits for a concurrent insert of the same name to commit or roll back and
 * then inserts or reports the name taken, so exactly one of two racing creates wins.
 *
 * <p>Times are epoch milliseconds, so anything finer is truncated; so is {@link Quotas#maxDelay()}.
 */
final class PostgresTenantStore implements TenantStore {
    private static final String TENANT_COLUMNS = "name, weight, max_pending_jobs, schedules_per_second, "
            + "schedule_burst, max_payload_bytes, max_delay_ms, max_in_flight, webhook_secrets, created_at, updated_at";
    private static final String KEY_COLUMNS = "id, tenant, hash, created_at, revoked_at";

    static final String INSERT_TENANT = "INSERT INTO tenants (" + TENANT_COLUMNS + ") "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING";
    static final String UPDATE_TENANT = "UPDATE tenants SET weight = ?, max_pending_jobs = ?, "
            + "schedules_per_second = ?, schedule_burst = ?, max_payload_bytes = ?, max_delay_ms = ?, "
            + "max_in_flight = ?, webhook_secrets = ?, updated_at = ? WHERE name = ?";
    static final String INSERT_KEY = "INSERT INTO api_keys (" + KEY_COLUMNS + ") VALUES (?, ?, ?, ?, ?)";
    /** Inserts the key only if its tenant exists: "false for an unknown tenant" in one statement. */
    static final String ADD_KEY = "INSERT INTO api_keys (" + KEY_COLUMNS + ") SELECT ?, ?, ?, ?, ? "
            + "WHERE EXISTS (SELECT 1 FROM tenants WHERE name = ?)";
    /** COALESCE keeps the first revocation time; the row still counts as matched, so a repeat returns true. */
    static final String REVOKE_KEY = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) "
            + "WHERE tenant = ? AND id = ?";
    static final String FIND_TENANT = "SELECT " + TENANT_COLUMNS + " FROM tenants WHERE name = ?";
    static final String LIST_TENANTS = "SELECT " + TENANT_COLUMNS + " FROM tenants ORDER BY name";
    /** The id breaks ties of keys issued in the same millisecond, so the order is stable. */
    static final String KEYS_OF_TENANT = "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE tenant = ? "
            + "ORDER BY created_at, id";
    static final String FIND_KEY_BY_HASH = "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE hash = ?";
    static final String ACTIVE_KEYS = "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE revoked_at IS NULL "
            + "ORDER BY tenant, created_at, id";
    static final String PENDING_JOBS = "SELECT tenant, count(*) FROM jobs "
            + "WHERE state IN ('SCHEDULED', 'RUNNING') GROUP BY tenant";

    private final PostgresJobStore store;
    private final String storeName;

    PostgresTenantStore(PostgresJobStore store, String storeName) {
        this.store = store;
        this.storeName = storeName;
    }

    // ---------------------------------------------------------------------------------------------------------
    // writes

    @Override
    public boolean create(Tenant tenant, ApiKey firstKey) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(firstKey, "firstKey");
        if (!firstKey.tenant().equals(tenant.name())) {
            throw new IllegalArgumentException("the first key of tenant " + tenant.name() + " belongs to tenant "
                    + firstKey.tenant());
        }
        tenant.quotas().validate();
        return store.writeAdmin("create tenant " + tenant.name(), connection -> {
            try (PreparedStatement insert = connection.prepareStatement(INSERT_TENANT)) {
                insert.setString(1, tenant.name());
                int next = bindSettings(connection, insert, 2, tenant);
                insert.setLong(next, tenant.createdAt().toEpochMilli());
                insert.setLong(next + 1, tenant.updatedAt().toEpochMilli());
                if (insert.executeUpdate() == 0) {
                    return false; // the name is taken: nothing was written
                }
            }
            try (PreparedStatement key = connection.prepareStatement(INSERT_KEY)) {
                bindKey(key, firstKey);
                key.executeUpdate(); // a taken id or hash throws, and the tenant's row is rolled back with it
            }
            return true;
        });
    }

    @Override
    public boolean update(Tenant tenant) {
        Objects.requireNonNull(tenant, "tenant");
        tenant.quotas().validate();
        return store.writeAdmin("update tenant " + tenant.name(), connection -> {
            try (PreparedStatement update = connection.prepareStatement(UPDATE_TENANT)) {
                int next = bindSettings(connection, update, 1, tenant);
                update.setLong(next, tenant.updatedAt().toEpochMilli());
                update.setString(next + 1, tenant.name());
                return update.executeUpdate() == 1;
            }
        });
    }

    @Override
    public boolean addKey(ApiKey key) {
        Objects.requireNonNull(key, "key");
        return store.writeAdmin("add key " + key.id() + " to tenant " + key.tenant(), connection -> {
            try (PreparedStatement insert = connection.prepareStatement(ADD_KEY)) {
                bindKey(insert, key);
                insert.setString(6, key.tenant());
                return insert.executeUpdate() == 1;
            }
        });
    }

    @Override
    public boolean revokeKey(String tenant, String keyId, Instant at) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(at, "at");
        return store.writeAdmin("revoke key " + keyId + " of tenant " + tenant, connection -> {
            try (PreparedStatement revoke = connection.prepareStatement(REVOKE_KEY)) {
                revoke.setLong(1, at.toEpochMilli());
                revoke.setString(2, tenant);
                revoke.setString(3, keyId);
                return revoke.executeUpdate() == 1;
            }
        });
    }

    /** Binds weight, the quotas and the secrets from {@code index} on, in that order; returns the next index. */
    private static int bindSettings(Connection connection, PreparedStatement statement, int index, Tenant tenant)
            throws SQLException {
        Quotas quotas = tenant.quotas();
        statement.setInt(index++, tenant.weight());
        statement.setLong(index++, quotas.maxPendingJobs());
        statement.setLong(index++, quotas.schedulesPerSecond());
        statement.setLong(index++, quotas.scheduleBurst());
        statement.setInt(index++, quotas.maxPayloadBytes());
        statement.setLong(index++, quotas.maxDelay().toMillis());
        statement.setInt(index++, quotas.maxInFlight());
        statement.setArray(index++, connection.createArrayOf("text", tenant.webhookSecrets().toArray()));
        return index;
    }

    /** Binds the five columns of {@link #KEY_COLUMNS}. */
    private static void bindKey(PreparedStatement statement, ApiKey key) throws SQLException {
        statement.setString(1, key.id());
        statement.setString(2, key.tenant());
        statement.setString(3, key.hash());
        statement.setLong(4, key.createdAt().toEpochMilli());
        if (key.revokedAt() == null) {
            statement.setNull(5, Types.BIGINT);
        } else {
            statement.setLong(5, key.revokedAt().toEpochMilli());
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // reads

    @Override
    public Optional<Tenant> find(String name) {
        Objects.requireNonNull(name, "name");
        return store.read("find tenant " + name, connection -> {
            try (PreparedStatement find = connection.prepareStatement(FIND_TENANT)) {
                find.setString(1, name);
                try (ResultSet rs = find.executeQuery()) {
                    return rs.next() ? Optional.of(readTenant(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<Tenant> list() {
        return store.read("list tenants", connection -> {
            try (PreparedStatement list = connection.prepareStatement(LIST_TENANTS);
                    ResultSet rs = list.executeQuery()) {
                List<Tenant> tenants = new ArrayList<>();
                while (rs.next()) {
                    tenants.add(readTenant(rs));
                }
                return tenants;
            }
        });
    }

    @Override
    public List<ApiKey> keys(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        return queryKeys("keys of tenant " + tenant, KEYS_OF_TENANT, tenant);
    }

    @Override
    public Optional<ApiKey> findKeyByHash(String hash) {
        Objects.requireNonNull(hash, "hash");
        return queryKeys("find key by hash", FIND_KEY_BY_HASH, hash).stream().findFirst();
    }

    @Override
    public List<ApiKey> activeKeys() {
        return queryKeys("active keys", ACTIVE_KEYS, null);
    }

    /** A full scan of {@code jobs}: the server calls it in the background, never on a request. */
    @Override
    public Map<String, Long> pendingJobs() {
        return store.read("count pending jobs", connection -> {
            try (PreparedStatement count = connection.prepareStatement(PENDING_JOBS);
                    ResultSet rs = count.executeQuery()) {
                Map<String, Long> pending = new HashMap<>();
                while (rs.next()) {
                    pending.put(rs.getString(1), rs.getLong(2));
                }
                return pending;
            }
        });
    }

    private List<ApiKey> queryKeys(String what, String sql, String parameter) {
        return store.read(what, connection -> {
            try (PreparedStatement query = connection.prepareStatement(sql)) {
                if (parameter != null) {
                    query.setString(1, parameter);
                }
                try (ResultSet rs = query.executeQuery()) {
                    List<ApiKey> keys = new ArrayList<>();
                    while (rs.next()) {
                        keys.add(readKey(rs));
                    }
                    return keys;
                }
            }
        });
    }

    private static Tenant readTenant(ResultSet rs) throws SQLException {
        Quotas quotas = new Quotas(rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getInt(6),
                Duration.ofMillis(rs.getLong(7)), rs.getInt(8));
        Array array = rs.getArray(9);
        List<String> secrets = List.of((String[]) array.getArray());
        array.free();
        return new Tenant(rs.getString(1), rs.getInt(2), quotas, secrets, Instant.ofEpochMilli(rs.getLong(10)),
                Instant.ofEpochMilli(rs.getLong(11)));
    }

    private static ApiKey readKey(ResultSet rs) throws SQLException {
        long revokedMillis = rs.getLong(5);
        Instant revokedAt = rs.wasNull() ? null : Instant.ofEpochMilli(revokedMillis);
        return new ApiKey(rs.getString(1), rs.getString(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)),
                revokedAt);
    }

    @Override
    public String toString() {
        return "PostgresTenantStore[" + storeName + "]";
    }
}
