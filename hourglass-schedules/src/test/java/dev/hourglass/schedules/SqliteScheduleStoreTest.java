package dev.hourglass.schedules;

import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/** The schedule store's contract on a real SQLite file. */
class SqliteScheduleStoreTest extends ScheduleStoreContract {
    private static final AtomicInteger FILES = new AtomicInteger();

    @TempDir
    Path dir;

    @Override
    protected JobStore openStore() {
        return SqliteJobStore.open(dir.resolve("schedules-" + FILES.incrementAndGet()).resolve("jobs.db"));
    }
}
