package dev.hourglass.store.jdbc;

import dev.hourglass.core.store.StoreException;
import java.util.Arrays;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * Brings a store's database to the current schema with Flyway: the versioned scripts at
 * {@link MigrationParams#location()} ({@code V1__jobs.sql}, ...) are applied in version order, each in its own
 * transaction, and recorded in {@code flyway_schema_history}. Each store says how its database keeps two processes
 * from migrating at once (SQLite: the store's file lock; PostgreSQL: Flyway's advisory lock).
 *
 * <p>A database whose schema is newer than this build knows (migrated by a later Hourglass) is refused rather than
 * used: Flyway alone would only ignore the "future" migrations.
 *
 * <p>Flyway logs through SLF4J, as the rest of Hourglass does, whatever else is on the classpath: left to detect a
 * logger itself, Flyway passes over SLF4J when no SLF4J provider is bound and falls back to
 * {@code java.util.logging}, which prints its INFO lines on the console of an application that embeds Hourglass and
 * chose no logging. Through SLF4J they go where the application's other logs go, or nowhere.
 *
 * <p>Packaging note: Flyway finds its database support through {@code META-INF/services}; a shaded jar must merge
 * service files (maven-shade-plugin's {@code ServicesResourceTransformer}), or Flyway reports that no database type
 * handles the JDBC URL.
 */
public final class SchemaMigrations {

    private SchemaMigrations() {}

    /**
     * Migrates the database; returns the schema version now in effect, e.g. {@code "4"}.
     *
     * @throws StoreException naming {@link MigrationParams#storeName()} if the migration fails, or the schema is
     *     newer than this build's scripts
     */
    public static String migrate(MigrationParams params) {
        String name = params.storeName();
        try {
            FluentConfiguration configuration = Flyway.configure(params.classLoader())
                    .loggers("slf4j")
                    .dataSource(params.dataSource())
                    .locations(params.location())
                    .failOnMissingLocations(true)
                    .validateMigrationNaming(true)
                    .cleanDisabled(true);
            if (params.schema() != null) {
                configuration = configuration.schemas(params.schema()).defaultSchema(params.schema())
                        .createSchemas(true);
            }
            if (params.initSql() != null) {
                configuration = configuration.initSql(params.initSql());
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
            throw new StoreException(
                    "cannot migrate the schema of " + name + ": " + SqlFailures.oneLine(e.getMessage()), e);
        }
    }
}
