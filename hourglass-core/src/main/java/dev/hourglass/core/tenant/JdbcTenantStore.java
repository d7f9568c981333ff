package dev.hourglass.core.tenant;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the SQL stores' tenant stores share: the tables' columns and statements (the same SQL on SQLite and
 * PostgreSQL), the reads, and the row mapping. A store supplies how it runs a read, how its writes reach its
 * connection (each store has its own writer discipline), and how the list of webhook secrets is kept in one column
 * (SQLite: newline-separated text; PostgreSQL: {@code text[]}).
 *
 * <p>Times are epoch milliseconds, so anything finer is truncated; so is {@link Quotas#maxDelay()}.
 */
public abstract class JdbcTenantStore implements TenantStore {
    private static final String TENANT_COLUMNS = "name, weight, max_pending_jobs, schedules_per_second, "
            + "schedule_burst, max_payload_bytes, max_delay_ms, max_in_flight, webhook_secrets, created_at, updated_at";
    private static final String KEY_COLUMNS = "id, tenant, hash, created_at, revoked_at";

    protected static final String INSERT_TENANT = "INSERT INTO tenants (" + TENANT_COLUMNS + ") "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING";
    protected static final String UPDATE_TENANT = "UPDATE tenants SET weight = ?, max_pending_jobs = ?, "
            + "schedules_per_second = ?, schedule_burst = ?, max_payload_bytes = ?, max_delay_ms = ?, "
            + "max_in_flight = ?, webhook_secrets = ?, updated_at = ? WHERE name = ?";
    protected static final String INSERT_KEY = "INSERT INTO api_keys (" + KEY_COLUMNS + ") VALUES (?, ?, ?, ?, ?)";
    /** Inserts the key only if its tenant exists: "false for an unknown tenant" in one statement. */
    protected static final String ADD_KEY = "INSERT INTO api_keys (" + KEY_COLUMNS + ") SELECT ?, ?, ?, ?, ? "
            + "WHERE EXISTS (SELECT 1 FROM tenants WHERE name = ?)";
    /** COALESCE keeps the first revocation time; the row still counts as matched, so a repeat returns true. */
    protected static final String REVOKE_KEY = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) "
            + "WHERE tenant = ? AND id = ?";
    // The reads are public for the stores' query-plan tests (each must use an index).
    public static final String FIND_TENANT = "SELECT " + TENANT_COLUMNS + " FROM tenants WHERE name = ?";
    private static final String LIST_TENANTS = "SELECT " + TENANT_COLUMNS + " FROM tenants ORDER BY name";
    /** The id breaks ties of keys issued in the same millisecond, so the order is stable. */
    public static final String KEYS_OF_TENANT = "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE tenant = ? "
            + "ORDER BY created_at, id";
    public static final String FIND_KEY_BY_HASH = "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE hash = ?";
    private static final String ACTIVE_KEYS = "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE revoked_at IS NULL "
            + "ORDER BY tenant, created_at, id";
    private static final String PENDING_JOBS = "SELECT tenant, count(*) FROM jobs "
            + "WHERE state IN ('SCHEDULED', 'RUNNING') GROUP BY tenant";

    /** One read on a connection the store lends (and takes back). */
    @FunctionalInterface
    protected interface Query<R> {
        R apply(Connection connection) throws SQLException;
    }

    /** Runs {@code query} on a read connection; failures as the store's job reads report them. */
    protected abstract <R> R read(String what, Query<R> query);

    /** Binds the secrets, newest first, as parameter {@code index} of {@code statement}. */
    protected abstract void bindSecrets(PreparedStatement statement, int index, List<String> secrets)
            throws SQLException;

    /** Reads the secrets, newest first, from column {@code column} of the current row. */
    protected abstract List<String> readSecrets(ResultSet rs, int column) throws SQLException;

    /** The SQL type a null {@code revoked_at} is bound as. */
    protected abstract int nullTimeType();

    // ---- reads ----

    @Override
    public Optional<Tenant> find(String name) {
        Objects.requireNonNull(name, "name");
        return read("find tenant " + name, connection -> {
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
        return read("list tenants", connection -> {
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
        return read("count pending jobs", connection -> {
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
        return read(what, connection -> {
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

    private Tenant readTenant(ResultSet rs) throws SQLException {
        Quotas quotas = new Quotas(rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getInt(6),
                Duration.ofMillis(rs.getLong(7)), rs.getInt(8));
        return new Tenant(rs.getString(1), rs.getInt(2), quotas, readSecrets(rs, 9),
                Instant.ofEpochMilli(rs.getLong(10)), Instant.ofEpochMilli(rs.getLong(11)));
    }

    private static ApiKey readKey(ResultSet rs) throws SQLException {
        long revokedMillis = rs.getLong(5);
        Instant revokedAt = rs.wasNull() ? null : Instant.ofEpochMilli(revokedMillis);
        return new ApiKey(rs.getString(1), rs.getString(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)),
                revokedAt);
    }

    // ---- for the stores' writes ----

    /** The checks of {@link #create} before anything is written. */
    protected static void checkCreate(Tenant tenant, ApiKey firstKey) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(firstKey, "firstKey");
        if (!firstKey.tenant().equals(tenant.name())) {
            throw new IllegalArgumentException("the first key of tenant " + tenant.name() + " belongs to tenant "
                    + firstKey.tenant());
        }
        tenant.quotas().validate();
    }

    /** Binds {@link #INSERT_TENANT}'s parameters. */
    protected void bindInsert(PreparedStatement insert, Tenant tenant) throws SQLException {
        insert.setString(1, tenant.name());
        int next = bindSettings(insert, 2, tenant);
        insert.setLong(next, tenant.createdAt().toEpochMilli());
        insert.setLong(next + 1, tenant.updatedAt().toEpochMilli());
    }

    /** Binds {@link #UPDATE_TENANT}'s parameters. */
    protected void bindUpdate(PreparedStatement update, Tenant tenant) throws SQLException {
        int next = bindSettings(update, 1, tenant);
        update.setLong(next, tenant.updatedAt().toEpochMilli());
        update.setString(next + 1, tenant.name());
    }

    /** Binds {@link #REVOKE_KEY}'s parameters. */
    protected static void bindRevoke(PreparedStatement revoke, String tenant, String keyId, Instant at)
            throws SQLException {
        revoke.setLong(1, at.toEpochMilli());
        revoke.setString(2, tenant);
        revoke.setString(3, keyId);
    }

    /** Binds weight, the quotas and the secrets from {@code index} on, in that order; returns the next index. */
    private int bindSettings(PreparedStatement statement, int index, Tenant tenant) throws SQLException {
        Quotas quotas = tenant.quotas();
        statement.setInt(index++, tenant.weight());
        statement.setLong(index++, quotas.maxPendingJobs());
        statement.setLong(index++, quotas.schedulesPerSecond());
        statement.setLong(index++, quotas.scheduleBurst());
        statement.setInt(index++, quotas.maxPayloadBytes());
        statement.setLong(index++, quotas.maxDelay().toMillis());
        statement.setInt(index++, quotas.maxInFlight());
        bindSecrets(statement, index++, tenant.webhookSecrets());
        return index;
    }

    /** Binds the five key columns of {@link #INSERT_KEY} (and the first five of {@link #ADD_KEY}). */
    protected void bindKey(PreparedStatement statement, ApiKey key) throws SQLException {
        statement.setString(1, key.id());
        statement.setString(2, key.tenant());
        statement.setString(3, key.hash());
        statement.setLong(4, key.createdAt().toEpochMilli());
        if (key.revokedAt() == null) {
            statement.setNull(5, nullTimeType());
        } else {
            statement.setLong(5, key.revokedAt().toEpochMilli());
        }
    }
}
