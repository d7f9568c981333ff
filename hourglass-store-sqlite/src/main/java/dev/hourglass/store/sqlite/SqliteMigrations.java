package dev.hourglass.store.sqlite;

import dev.hourglass.core.store.StoreException;
import java.nio.file.Path;
import java.util.Arrays;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;

/**
 * Brings a store file's schema to the current version with Flyway (SQLite support is built into flyway-core 11):
 * the scripts in {@code db/migration/sqlite} ({@code V1__jobs.sql}, ...) are applied in version order, each in its
 * own transaction, and recorded in {@code flyway_schema_history}. Runs at open, after the file lock is taken, so
 * no other Hourglass process can migrate the same file concurrently.
 *
 * <p>A file whose schema is newer than this build knows (written by a later Hourglass) is refused rather than used:
 * Flyway alone would only ignore the "future" migrations.
 *
 * <p>Packaging note: Flyway finds its database support through {@code META-INF/services}; a shaded jar must merge
 * service files (maven-shade-plugin's {@code ServicesResourceTransformer}), or Flyway reports that no database
 * type handles {@code jdbc:sqlite:}.
 */
public final class SqliteMigrations {
    public static final String LOCATION = "classpath:db/migration/sqlite";

    private SqliteMigrations() {}

    /** Migrates the database at {@code url}; returns the schema version now in effect. */
    static String migrate(String url, Path file) {
        try {
            Flyway flyway = Flyway.configure(SqliteMigrations.class.getClassLoader())
                    .dataSource(url, null, null)
                    .locations(LOCATION)
                    .failOnMissingLocations(true)
                    .validateMigrationNaming(true)
                    .cleanDisabled(true)
                    .load();
            flyway.migrate();
            MigrationInfoService info = flyway.info();
            MigrationInfo[] future = Arrays.stream(info.all())
                    .filter(m -> m.getState() == MigrationState.FUTURE_SUCCESS
                            || m.getState() == MigrationState.FUTURE_FAILED)
                    .toArray(MigrationInfo[]::new);
            if (future.length > 0) {
                throw new StoreException(file + " has schema version " + future[future.length - 1].getVersion()
                        + ", newer than this Hourglass supports; use a newer Hourglass");
            }
            MigrationInfo current = info.current();
            if (current == null || current.getVersion() == null) {
                throw new StoreException("the schema migration of " + file + " left no version behind");
            }
            return current.getVersion().getVersion();
        } catch (FlywayException e) {
            throw new StoreException("cannot migrate the schema of " + file + ": " + e.getMessage(), e);
        }
    }
}
