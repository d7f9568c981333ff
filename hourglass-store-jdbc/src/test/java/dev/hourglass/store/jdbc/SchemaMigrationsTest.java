package dev.hourglass.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.store.StoreException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

/**
 * The shared migration runner on real SQLite files. This module's tests have SLF4J's API but no SLF4J provider, as
 * an application that embeds Hourglass and chose no logging: the case where Flyway, left to itself, would log
 * through {@code java.util.logging}.
 */
class SchemaMigrationsTest {

    @TempDir
    Path dir;

    /** Held strongly: java.util.logging keeps loggers only weakly. */
    private final Logger flywayLogger = Logger.getLogger("org.flywaydb");
    private final List<LogRecord> julRecords = new CopyOnWriteArrayList<>();
    private final Handler recorder = new Handler() {
        @Override
        public void publish(LogRecord record) {
            julRecords.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void recordJavaUtilLogging() {
        flywayLogger.addHandler(recorder);
    }

    @AfterEach
    void stopRecording() {
        flywayLogger.removeHandler(recorder);
    }

    private MigrationParams params(String file, String location) {
        SQLiteDataSource dataSource = new SQLiteDataSource();
        dataSource.setUrl("jdbc:sqlite:" + dir.resolve(file));
        return MigrationParams.of("test store " + file, dataSource, getClass().getClassLoader(),
                "classpath:db/migration/" + location);
    }

    @Test
    void migratesToTheLatestVersionAndOnlyOnce() {
        assertThat(SchemaMigrations.migrate(params("a.db", "jdbc-test"))).isEqualTo("2");
        assertThat(SchemaMigrations.migrate(params("a.db", "jdbc-test"))).isEqualTo("2");
    }

    @Test
    void flywayDoesNotLogThroughJavaUtilLogging() {
        SchemaMigrations.migrate(params("quiet.db", "jdbc-test"));

        assertThat(julRecords).extracting(LogRecord::getMessage).isEmpty();
    }

    @Test
    void aSchemaNewerThanTheScriptsIsRefusedNamingTheStore() {
        SchemaMigrations.migrate(params("newer.db", "jdbc-test"));

        assertThatThrownBy(() -> SchemaMigrations.migrate(params("newer.db", "jdbc-test-v1")))
                .isInstanceOf(StoreException.class)
                .hasMessage("test store newer.db has schema version 2, newer than this Hourglass supports; "
                        + "use a newer Hourglass");
    }

    @Test
    void aFailingScriptIsAStoreExceptionOnOneLineNamingTheStore() {
        assertThatThrownBy(() -> SchemaMigrations.migrate(params("broken.db", "jdbc-test-broken")))
                .isInstanceOf(StoreException.class)
                .hasMessageStartingWith("cannot migrate the schema of test store broken.db: ")
                .hasMessageContaining("no_such_table")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContainPattern("\\R"));
        // The failed script was rolled back: the file stays at V1 and a fixed script set applies on top of it.
        assertThat(SchemaMigrations.migrate(params("broken.db", "jdbc-test-v1"))).isEqualTo("1");
    }
}
