package dev.hourglass.store.jdbc;

import java.util.Objects;
import javax.sql.DataSource;

/**
 * What {@link SchemaMigrations#migrate} needs to bring one store's database to the current schema.
 *
 * @param storeName how errors name the store (its file, or its server and schema)
 * @param dataSource the connections the migration uses (Flyway opens and closes its own)
 * @param classLoader the loader that sees the store's scripts (and Flyway's support for its database)
 * @param location where the scripts are, e.g. {@code classpath:db/migration/sqlite}: a location of the store's own,
 *     so another store's scripts on the same classpath are never picked up
 * @param schema the schema that holds the tables and {@code flyway_schema_history} (created if missing), or null
 *     for the connection's default
 * @param initSql a statement run on each connection of the migration before it is used, or null
 */
public record MigrationParams(
        String storeName, DataSource dataSource, ClassLoader classLoader, String location, String schema,
        String initSql) {

    public MigrationParams {
        Objects.requireNonNull(storeName, "storeName");
        Objects.requireNonNull(dataSource, "dataSource");
        Objects.requireNonNull(classLoader, "classLoader");
        Objects.requireNonNull(location, "location");
    }

    /** The scripts at {@code location}, in the connection's default schema, with no init statement. */
    public static MigrationParams of(String storeName, DataSource dataSource, ClassLoader classLoader,
            String location) {
        return new MigrationParams(storeName, dataSource, classLoader, location, null, null);
    }

    /** The same, with the tables in {@code schema} (null: the connection's default). */
    public MigrationParams inSchema(String schema) {
        return new MigrationParams(storeName, dataSource, classLoader, location, schema, initSql);
    }

    /** The same, with {@code initSql} run on each of the migration's connections (null: none). */
    public MigrationParams withInitSql(String initSql) {
        return new MigrationParams(storeName, dataSource, classLoader, location, schema, initSql);
    }
}
