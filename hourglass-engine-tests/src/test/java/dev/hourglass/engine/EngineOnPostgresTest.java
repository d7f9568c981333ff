package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.model.JobState;
import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.Durability;
import dev.hourglass.core.store.HeartbeatParams;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;
import dev.hourglass.testing.ManualEngine;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine contract on a real PostgreSQL schema of its own (see {@link TestDatabase}), plus what a shared store
 * promises instead of an exclusive one: a starting node waits for other nodes' leases.
 */
class EngineOnPostgresTest extends EngineContract {
    private String schema;

    @Override
    protected JobStore openStore() {
        schema = TestDatabase.newSchemaName();
        return PostgresJobStore.open(TestDatabase.options(schema));
    }

    @Override
    protected void dispose(JobStore store) {
        store.close();
        TestDatabase.dropSchema(schema);
    }

    @Test
    void aStartingNodeLeavesAnotherNodesClaimsAloneUntilItsLeaseRunsOut() {
        NewJob claimed = newJob(new JobIdGenerator(clock).next(), "other-node", T0);
        store.write(Durability.FSYNC, tx -> {
            tx.insert(List.of(claimed));
            tx.heartbeat(new HeartbeatParams("other-node", T0.plusSeconds(60), T0));
            return null;
        });
        ManualEngine starting = engine("starting");
        assertThat(starting.runDue()).as("the other node may still be alive").isZero();

        starting.advance(Duration.ofSeconds(60).plusMillis(1));
        assertThat(starting.runDue()).isEqualTo(1);
        assertThat(stateOf(claimed.id())).isEqualTo(JobState.SUCCEEDED);
    }
}
