package dev.hourglass.metrics;

import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** {@link HourglassMetricsContract} on a real SQLite file. */
class MetricsOnSqliteTest extends HourglassMetricsContract {
    @TempDir
    Path dir;

    @Override
    protected JobStore openStore() {
        return SqliteJobStore.open(dir.resolve("hourglass.db"));
    }

    @Override
    protected String storeKind() {
        return "sqlite";
    }
}
