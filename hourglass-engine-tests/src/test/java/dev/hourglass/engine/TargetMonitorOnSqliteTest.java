package dev.hourglass.engine;

import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The target monitor on a real SQLite file. */
class TargetMonitorOnSqliteTest extends TargetMonitorContract {
    @TempDir
    Path dir;

    @Override
    protected JobStore openStore() {
        return SqliteJobStore.open(dir.resolve("hourglass.db"));
    }

    @Override
    protected void dispose(JobStore store) {
        store.close();
    }
}
