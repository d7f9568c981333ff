package dev.hourglass.store.postgres;

import dev.hourglass.core.store.StoreException;
import java.util.Arrays;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * Brings the database's schema to the current version with Flyway: the scripts in {@code db/migration/postgres}
 * ({@code V1__jobs.sql}, ...; a location of its own, so the SQLite scripts on the same classpath are never picked
 * up) are applied in version order, each in its own transaction, and recorded in {@code flyway_schema_history} of
 * the store's schema. Several nodes may open the store at the same moment: Flyway holds a PostgreSQL advisory lock
 * while it migrates, so exactly one of them applies each script and the others wait and find it done.
 *
 * <p>A schema newer than this build knows (migrated by a later Hourglass) is refused rather than used: Flyway alone
 * would only ignore the "future" migrations.
 *
 * <p>Packaging note: Flyway finds its PostgreSQL support ({@code flyway-database-postgresql}) through
 * {@code META-INF/services}; a shaded jar must merge service files (maven-shade-plugin's
 * {@code ServicesResourceTransformer}), or Flyway reports that no database type handles {@code jdbc:postgresql:}.
 */
public final class PostgresMigrations {
    public static final String LOCATION = "classpath:db/migration/postgres";

    private PostgresMigrations() {}

    /** Migrates the database behind {@code dataSource}; returns the schema version now in effect. */
    static String migrate(DataSource dataSource, String schema, String name) {
        try {
            FluentConfiguration configuration = Flyway.configure(PostgresMigrations.class.getClassLoader())
                    .dataSource(dataSource)
                    .locations(LOCATION)
                    .failOnMissingLocations(true)
                    .validateMigrationNaming(true)
                    .cleanDisabled(true)
                    // The store's connections give up a lock wait after PostgresJobStore.LOCK_TIMEOUT; a migration
                    // may wait for another node's migration or for running transactions, so its own do not. The
                    // store evicts these connections after the migration, so no later transaction keeps this.
                    .initSql("SET lock_timeout = 0");
            if (schema != null) {
                configuration = configuration.schemas(schema).defaultSchema(schema).createSchemas(true);
            }
            Flyway flyway = configuration.load();
            flyway.migrate();
            MigrationInfoService info = flyway.info();
            MigrationInfo[] future = Arrays.stream(info.all())
                    .filter(m -> m.getState() == MigrationState.FUTURE_SUCCESS
                            || m.getState() == MigrationState.FUTURE_FAILED)
                    .toArray(MigrationInfo[]::new);
            if (future.length > 0) {
                throw new StoreException(name + " has schema version " + future[future.length - 1].getVersion()
                        + ", newer than this Hourglass supports; use a newer Hourglass");
            }
            MigrationInfo current = info.current();
            if (current == null || current.getVersion() == null) {
                throw new StoreException("the schema migration of " + name + " left no version behind");
            }
            return current.getVersion().getVersion();
        } catch (FlywayException e) {
            throw new StoreException("cannot migrate the schema of " + name + ": "
                    + PostgresJobStore.oneLine(e.getMessage()), e);
        }
    }
}
