package dev.hourglass.store.postgres;

import dev.hourglass.core.tenant.ApiKey;
import dev.hourglass.core.tenant.Tenant;
import dev.hourglass.core.tenant.JdbcTenantStore;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

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
 * <p>The statements, reads and row mapping are shared with SQLite ({@link JdbcTenantStore}); the secrets are one
 * {@code text[]} column.
 */
final class PostgresTenantStore extends JdbcTenantStore {
    private final PostgresJobStore store;
    private final String storeName;

    PostgresTenantStore(PostgresJobStore store, String storeName) {
        this.store = store;
        this.storeName = storeName;
    }

    @Override
    public boolean create(Tenant tenant, ApiKey firstKey) {
        checkCreate(tenant, firstKey);
        return store.writeAdmin("create tenant " + tenant.name(), connection -> {
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
        return store.writeAdmin("update tenant " + tenant.name(), connection -> {
            try (PreparedStatement update = connection.prepareStatement(UPDATE_TENANT)) {
                bindUpdate(update, tenant);
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
                bindRevoke(revoke, tenant, keyId, at);
                return revoke.executeUpdate() == 1;
            }
        });
    }

    @Override
    protected <R> R read(String what, Query<R> query) {
        return store.read(what, query::apply);
    }

    @Override
    protected void bindSecrets(PreparedStatement statement, int index, List<String> secrets) throws SQLException {
        statement.setArray(index, statement.getConnection().createArrayOf("text", secrets.toArray()));
    }

    @Override
    protected List<String> readSecrets(ResultSet rs, int column) throws SQLException {
        Array array = rs.getArray(column);
        try {
            return List.of((String[]) array.getArray());
        } finally {
            array.free();
        }
    }

    @Override
    protected int nullTimeType() {
        return Types.BIGINT;
    }

    @Override
    public String toString() {
        return "PostgresTenantStore[" + storeName + "]";
    }
}
