package dev.hourglass.store.sqlite;

import dev.hourglass.core.tenant.ApiKey;
import dev.hourglass.core.tenant.Tenant;
import dev.hourglass.core.tenant.JdbcTenantStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The tenants and API keys of a {@link SqliteJobStore}, in the tables of {@code V2__tenants.sql}.
 *
 * <h2>Why writes share the job writer</h2>
 * Every write runs on the store's one writer connection ({@link SqliteJobStore#writeAdmin}), in a
 * {@code BEGIN IMMEDIATE} transaction committed with {@link dev.hourglass.core.store.Durability#FSYNC}, under the same lock as the engine's
 * job batches. A connection of its own would be a second writer of the file: SQLite allows one at a time, so the
 * two would meet at SQLite's file lock instead of at a Java lock, and the loser (possibly the engine's group commit,
 * with every caller waiting on it) would sleep and poll for up to the busy timeout, or fail with
 * {@code SQLITE_BUSY}. Sharing the writer, a tenant write waits at most for the batch in progress and delays the
 * next one by one small transaction, which is nothing for rare admin calls. Reads borrow from the read pool and see
 * only committed data, as the job reads do.
 *
 * <p>The statements, reads and row mapping are shared with PostgreSQL ({@link JdbcTenantStore}); the secrets are one
 * newline-separated text column ({@link Tenant} refuses a secret with a line break).
 */
final class SqliteTenantStore extends JdbcTenantStore {
    private final SqliteJobStore store;
    private final String storeName;

    SqliteTenantStore(SqliteJobStore store, String storeName) {
        this.store = store;
        this.storeName = storeName;
    }

    @Override
    public boolean create(Tenant tenant, ApiKey firstKey) {
        checkCreate(tenant, firstKey);
        return store.writeAdmin("create tenant " + tenant.name(), statements -> {
            PreparedStatement insert = statement(statements, INSERT_TENANT);
            bindInsert(insert, tenant);
            if (insert.executeUpdate() == 0) {
                return false; // the name is taken: nothing was written
            }
            PreparedStatement key = statement(statements, INSERT_KEY);
            bindKey(key, firstKey);
            key.executeUpdate(); // a taken id or hash throws, and the tenant's row is rolled back with it
            return true;
        });
    }

    @Override
    public boolean update(Tenant tenant) {
        Objects.requireNonNull(tenant, "tenant");
        tenant.quotas().validate();
        return store.writeAdmin("update tenant " + tenant.name(), statements -> {
            PreparedStatement update = statement(statements, UPDATE_TENANT);
            bindUpdate(update, tenant);
            return update.executeUpdate() == 1;
        });
    }

    @Override
    public boolean addKey(ApiKey key) {
        Objects.requireNonNull(key, "key");
        return store.writeAdmin("add key " + key.id() + " to tenant " + key.tenant(), statements -> {
            PreparedStatement insert = statement(statements, ADD_KEY);
            bindKey(insert, key);
            insert.setString(6, key.tenant());
            return insert.executeUpdate() == 1;
        });
    }

    @Override
    public boolean revokeKey(String tenant, String keyId, Instant at) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(at, "at");
        return store.writeAdmin("revoke key " + keyId + " of tenant " + tenant, statements -> {
            PreparedStatement revoke = statement(statements, REVOKE_KEY);
            bindRevoke(revoke, tenant, keyId, at);
            return revoke.executeUpdate() == 1;
        });
    }

    private static PreparedStatement statement(SqliteTx.Statements statements, String sql) throws SQLException {
        PreparedStatement statement = statements.get(sql); // cached: drop what the last use bound
        statement.clearParameters();
        return statement;
    }

    @Override
    protected <R> R read(String what, Query<R> query) {
        return store.read(what, query::apply);
    }

    @Override
    protected void bindSecrets(PreparedStatement statement, int index, List<String> secrets) throws SQLException {
        statement.setString(index, String.join("\n", secrets));
    }

    @Override
    protected List<String> readSecrets(ResultSet rs, int column) throws SQLException {
        return Arrays.asList(rs.getString(column).split("\n", -1));
    }

    @Override
    protected int nullTimeType() {
        return Types.INTEGER;
    }

    @Override
    public String toString() {
        return "SqliteTenantStore[" + storeName + "]";
    }
}
