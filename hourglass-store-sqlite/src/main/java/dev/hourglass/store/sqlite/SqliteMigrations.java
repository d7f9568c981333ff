package dev.hourglass.store.sqlite;

import dev.hourglass.store.jdbc.MigrationParams;
import dev.hourglass.store.jdbc.SchemaMigrations;
import java.nio.file.Path;
import org.sqlite.SQLiteDataSource;

/**
 * Brings a store file's schema to the current version ({@link SchemaMigrations}; SQLite support is built into
 * flyway-core 11) with the scripts in {@code db/migration/sqlite}. Runs at open, after the file lock is taken, so
 * no other Hourglass process can migrate the same file concurrently.
 */
public final class SqliteMigrations {
    public static final String LOCATION = "classpath:db/migration/sqlite";

    private SqliteMigrations() {}

    /** Migrates the database at {@code url} (the file {@code file}); returns the schema version now in effect. */
    static String migrate(String url, Path file) {
        SQLiteDataSource dataSource = new SQLiteDataSource();
        dataSource.setUrl(url);
        return SchemaMigrations.migrate(MigrationParams.of(file.toString(), dataSource,
                SqliteMigrations.class.getClassLoader(), LOCATION));
    }
}
