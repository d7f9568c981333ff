package dev.hourglass.tenancy;

import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.jdbc.SqlDialect;
import java.net.URI;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The tenants and API keys kept in a SQL job store's database (the tables of the stores' {@code V2__tenants.sql}),
 * read and written through the store's {@link SqlDatabase} capability: reads on its read connections, writes in its
 * durable transactions on its writer (see {@link SqlDatabase} for why not on a connection of one's own). The same
 * SQL runs on SQLite and PostgreSQL; only the column that keeps the list of webhook secrets differs (SQLite:
 * newline-separated text, which {@link Tenant} allows by refusing a secret with a line break; PostgreSQL:
 * {@code text[]}).
 *
 * <p>Several nodes may write at once on PostgreSQL: {@link #create} arbitrates a name with
 * {@code ON CONFLICT DO NOTHING}, which waits for a concurrent insert of the same name to commit or roll back and then
 * inserts or reports the name taken, so exactly one of two racing creates wins.
 *
 * <p>Times are epoch milliseconds, so anything finer is truncated; so is {@link Quotas#maxDelay()}. A tenant's
 * {@link TargetSettings} are nullable columns added in V6: a NULL (a row older than V6) reads as the default.
 */
public final class JdbcTenantStore implements TenantStore {
    /** {@link TargetSettings}' fields in the order of the record (V6); NULL in any of them reads as its default. */
    private static final String TARGET_COLUMNS = "target_raise_at, target_clear_at, target_min_attempts, "
            + "target_consecutive_failures, target_auto_pause, target_auto_pause_after_s, operations_webhook";
    private static final String TENANT_COLUMNS = "name, weight, max_pending_jobs, schedules_per_second, "
            + "schedule_burst, max_payload_bytes, max_delay_ms, max_in_flight, webhook_secrets, " + TARGET_COLUMNS
            + ", created_at, updated_at, queue_connections";
    private static final String KEY_COLUMNS = "id, tenant, hash, created_at, revoked_at";

    private static final String INSERT_TENANT = "INSERT INTO tenants (" + TENANT_COLUMNS + ") "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING";
    private static final String UPDATE_TENANT = "UPDATE tenants SET weight = ?, max_pending_jobs = ?, "
            + "schedules_per_second = ?, schedule_burst = ?, max_payload_bytes = ?, max_delay_ms = ?, "
            + "max_in_flight = ?, webhook_secrets = ?, target_raise_at = ?, target_clear_at = ?, "
            + "target_min_attempts = ?, target_consecutive_failures = ?, target_auto_pause = ?, "
            + "target_auto_pause_after_s = ?, operations_webhook = ?, updated_at = ?, queue_connections = ? "
            + "WHERE name = ?";
    private static final String INSERT_KEY = "INSERT INTO api_keys (" + KEY_COLUMNS + ") VALUES (?, ?, ?, ?, ?)";
    /** Inserts the key only if its tenant exists: "false for an unknown tenant" in one statement. */
    private static final String ADD_KEY = "INSERT INTO api_keys (" + KEY_COLUMNS + ") SELECT ?, ?, ?, ?, ? "
            + "WHERE EXISTS (SELECT 1 FROM tenants WHERE name = ?)";
    /** COALESCE keeps the first revocation time; the row still counts as matched, so a repeat returns true. */
    private static final String REVOKE_KEY = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) "
            + "WHERE tenant = ? AND id = ?";
    // The reads are public for the query-plan tests (each must use an index).
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

    private final SqlDatabase database;

    private JdbcTenantStore(SqlDatabase database) {
        this.database = database;
    }

    /** The tenant store kept in {@code database}. */
    public static JdbcTenantStore on(SqlDatabase database) {
        return new JdbcTenantStore(Objects.requireNonNull(database, "database"));
    }

    // ---- writes ----

    @Override
    public boolean create(Tenant tenant, ApiKey firstKey) {
        checkCreate(tenant, firstKey);
        return database.writeSql("create tenant " + tenant.name(), connection -> {
            try (PreparedStatement insert = connection.prepareStatement(INSERT_TENANT)) {
                bindInsert(insert, tenant);
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
        return database.writeSql("update tenant " + tenant.name(), connection -> {
            try (PreparedStatement update = connection.prepareStatement(UPDATE_TENANT)) {
                bindUpdate(update, tenant);
                return update.executeUpdate() == 1;
            }
        });
    }

    @Override
    public boolean addKey(ApiKey key) {
        Objects.requireNonNull(key, "key");
        return database.writeSql("add key " + key.id() + " to tenant " + key.tenant(), connection -> {
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
        return database.writeSql("revoke key " + keyId + " of tenant " + tenant, connection -> {
            try (PreparedStatement revoke = connection.prepareStatement(REVOKE_KEY)) {
                bindRevoke(revoke, tenant, keyId, at);
                return revoke.executeUpdate() == 1;
            }
        });
    }

    // ---- reads ----

    @Override
    public Optional<Tenant> find(String name) {
        Objects.requireNonNull(name, "name");
        return database.readSql("find tenant " + name, connection -> {
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
        return database.readSql("list tenants", connection -> {
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
        return database.readSql("count pending jobs", connection -> {
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
        return database.readSql(what, connection -> {
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
        return new Tenant(rs.getString(1), rs.getInt(2), quotas, readSecrets(rs, 9), readTargets(rs, 10),
                Instant.ofEpochMilli(rs.getLong(17)), Instant.ofEpochMilli(rs.getLong(18)), readConnections(rs, 19));
    }

    /** Reads {@link #TARGET_COLUMNS} from column {@code first} on; a NULL column takes its default. */
    private static TargetSettings readTargets(ResultSet rs, int first) throws SQLException {
        TargetSettings d = TargetSettings.DEFAULTS;
        double raiseAt = rs.getDouble(first);
        raiseAt = rs.wasNull() ? d.raiseAt() : raiseAt;
        double clearAt = rs.getDouble(first + 1);
        clearAt = rs.wasNull() ? d.clearAt() : clearAt;
        long minAttempts = rs.getLong(first + 2);
        minAttempts = rs.wasNull() ? d.minAttempts() : minAttempts;
        int consecutiveFailures = rs.getInt(first + 3);
        consecutiveFailures = rs.wasNull() ? d.consecutiveFailures() : consecutiveFailures;
        boolean autoPause = rs.getBoolean(first + 4);
        autoPause = rs.wasNull() ? d.autoPause() : autoPause;
        long autoPauseAfter = rs.getLong(first + 5);
        autoPauseAfter = rs.wasNull() ? d.autoPauseAfterSeconds() : autoPauseAfter;
        String webhook = rs.getString(first + 6);
        return new TargetSettings(raiseAt, clearAt, minAttempts, consecutiveFailures, autoPause, autoPauseAfter,
                webhook == null ? null : URI.create(webhook));
    }

    private static ApiKey readKey(ResultSet rs) throws SQLException {
        long revokedMillis = rs.getLong(5);
        Instant revokedAt = rs.wasNull() ? null : Instant.ofEpochMilli(revokedMillis);
        return new ApiKey(rs.getString(1), rs.getString(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)),
                revokedAt);
    }

    // ---- binding and mapping ----

    /** The checks of {@link #create} before anything is written. */
    private static void checkCreate(Tenant tenant, ApiKey firstKey) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(firstKey, "firstKey");
        if (!firstKey.tenant().equals(tenant.name())) {
            throw new IllegalArgumentException("the first key of tenant " + tenant.name() + " belongs to tenant "
                    + firstKey.tenant());
        }
        tenant.quotas().validate();
    }

    /** Binds {@link #INSERT_TENANT}'s parameters. */
    private void bindInsert(PreparedStatement insert, Tenant tenant) throws SQLException {
        insert.setString(1, tenant.name());
        int next = bindSettings(insert, 2, tenant);
        insert.setLong(next, tenant.createdAt().toEpochMilli());
        insert.setLong(next + 1, tenant.updatedAt().toEpochMilli());
        bindConnections(insert, next + 2, tenant.connections());
    }

    /** Binds {@link #UPDATE_TENANT}'s parameters. */
    private void bindUpdate(PreparedStatement update, Tenant tenant) throws SQLException {
        int next = bindSettings(update, 1, tenant);
        update.setLong(next, tenant.updatedAt().toEpochMilli());
        bindConnections(update, next + 1, tenant.connections());
        update.setString(next + 2, tenant.name());
    }

    /** The queue connections as names joined by commas, sorted; NULL for every connection (V8/V10). */
    private static void bindConnections(PreparedStatement statement, int index, Set<String> connections)
            throws SQLException {
        if (connections == null) {
            statement.setNull(index, Types.VARCHAR);
        } else {
            statement.setString(index, String.join(",", new java.util.TreeSet<>(connections)));
        }
    }

    private static Set<String> readConnections(ResultSet rs, int column) throws SQLException {
        String text = rs.getString(column);
        if (text == null) {
            return null;
        }
        return text.isEmpty() ? Set.of() : Set.of(text.split(","));
    }

    /** Binds {@link #REVOKE_KEY}'s parameters. */
    private static void bindRevoke(PreparedStatement revoke, String tenant, String keyId, Instant at)
            throws SQLException {
        revoke.setLong(1, at.toEpochMilli());
        revoke.setString(2, tenant);
        revoke.setString(3, keyId);
    }

    /**
     * Binds weight, the quotas, the secrets and the target settings from {@code index} on, in that order; returns
     * the next index. Every target setting is written as its value, a default included, so that a row says what it
     * was set to; only a missing operations webhook is NULL.
     */
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
        TargetSettings targets = tenant.targets();
        statement.setDouble(index++, targets.raiseAt());
        statement.setDouble(index++, targets.clearAt());
        statement.setLong(index++, targets.minAttempts());
        statement.setInt(index++, targets.consecutiveFailures());
        switch (database.dialect()) {
            case SQLITE -> statement.setInt(index++, targets.autoPause() ? 1 : 0);
            case POSTGRESQL -> statement.setBoolean(index++, targets.autoPause());
        }
        statement.setLong(index++, targets.autoPauseAfterSeconds());
        if (targets.operationsWebhook() == null) {
            statement.setNull(index++, Types.VARCHAR);
        } else {
            statement.setString(index++, targets.operationsWebhook().toString());
        }
        return index;
    }

    /** Binds the five key columns of {@link #INSERT_KEY} (and the first five of {@link #ADD_KEY}). */
    private void bindKey(PreparedStatement statement, ApiKey key) throws SQLException {
        statement.setString(1, key.id());
        statement.setString(2, key.tenant());
        statement.setString(3, key.hash());
        statement.setLong(4, key.createdAt().toEpochMilli());
        if (key.revokedAt() == null) {
            statement.setNull(5, database.dialect() == SqlDialect.SQLITE ? Types.INTEGER : Types.BIGINT);
        } else {
            statement.setLong(5, key.revokedAt().toEpochMilli());
        }
    }

    /** Binds the secrets, newest first, as parameter {@code index}. */
    private void bindSecrets(PreparedStatement statement, int index, List<String> secrets) throws SQLException {
        switch (database.dialect()) {
            case SQLITE -> statement.setString(index, String.join("\n", secrets));
            case POSTGRESQL -> statement.setArray(index,
                    statement.getConnection().createArrayOf("text", secrets.toArray()));
        }
    }

    /** Reads the secrets, newest first, from column {@code column} of the current row. */
    private List<String> readSecrets(ResultSet rs, int column) throws SQLException {
        return switch (database.dialect()) {
            case SQLITE -> Arrays.asList(rs.getString(column).split("\n", -1));
            case POSTGRESQL -> {
                Array array = rs.getArray(column);
                try {
                    yield List.of((String[]) array.getArray());
                } finally {
                    array.free();
                }
            }
        };
    }

    @Override
    public String toString() {
        return "JdbcTenantStore[" + database + "]";
    }
}
