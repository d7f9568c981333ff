package dev.hourglass.store.postgres;

import dev.hourglass.store.jdbc.MigrationParams;
import dev.hourglass.store.jdbc.SchemaMigrations;
import javax.sql.DataSource;

/**
 * Brings the database's schema to the current version ({@link SchemaMigrations}) with the scripts in
 * {@code db/migration/postgres}, recorded in {@code flyway_schema_history} of the store's schema. Several nodes may
 * open the store at the same moment: Flyway holds a PostgreSQL advisory lock while it migrates, so exactly one of
 * them applies each script and the others wait and find it done.
 *
 * <p>Packaging note: Flyway's PostgreSQL support is a separate artifact ({@code flyway-database-postgresql}), found
 * through {@code META-INF/services} (see {@link SchemaMigrations} for shaded jars).
 */
public final class PostgresMigrations {
    public static final String LOCATION = "classpath:db/migration/postgres";

    /**
     * The store's connections give up a lock wait after {@link PostgresJobStore#LOCK_TIMEOUT}; a migration may wait
     * for another node's migration or for running transactions, so its own do not. The store evicts these
     * connections after the migration, so no later transaction keeps this.
     */
    static final String NO_LOCK_TIMEOUT = "SET lock_timeout = 0";

    private PostgresMigrations() {}

    /** Migrates the database behind {@code dataSource}; returns the schema version now in effect. */
    static String migrate(DataSource dataSource, String schema, String name) {
        return SchemaMigrations.migrate(MigrationParams.of(name, dataSource, PostgresMigrations.class.getClassLoader(),
                LOCATION).inSchema(schema).withInitSql(NO_LOCK_TIMEOUT));
    }
}
