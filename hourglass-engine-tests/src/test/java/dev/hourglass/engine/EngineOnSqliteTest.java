package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine contract on a real SQLite file, plus what only an exclusive store allows. */
class EngineOnSqliteTest extends EngineContract {
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

    @Test
    void aRestartOnTheExclusiveStoreTakesOverLeftoverClaimsAtOnce() {
        NewJob orphan = newJob(new JobIdGenerator(clock).next(), "crashed-node", T0);
        store.write(Durability.FSYNC, tx -> {
            tx.insert(List.of(orphan));
            tx.heartbeat(new HeartbeatParams("crashed-node", T0.plusSeconds(60), T0));
            return null;
        });
        // The file is this process's alone: its leftover claims are taken at start, without waiting for the lease.
        assertThat(engine("restarted").runDue()).isEqualTo(1);
        assertThat(stateOf(orphan.id())).isEqualTo(JobState.SUCCEEDED);
    }
}
