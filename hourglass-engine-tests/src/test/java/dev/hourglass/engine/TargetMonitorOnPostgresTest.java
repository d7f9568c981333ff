package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.monitor.AlarmLevel;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.targets.TargetEvent;
import dev.hourglass.testing.ManualEngine;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;

/**
 * The target monitor on a real PostgreSQL schema of its own, plus what only a shared store allows: two nodes whose
 * attempts count toward one alarm, told once, which stays when a node goes.
 */
class TargetMonitorOnPostgresTest extends TargetMonitorContract {
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
    void twoNodesCountTowardOneAlarmToldOnce() {
        ManualEngine a = engine("a");
        ManualEngine b = engine("b");
        failing.set(true);
        // Each node runs 6 attempts: neither alone reaches the minimum of 10; together they do.
        schedule(a, 6, Duration.ZERO);
        a.runDue();
        schedule(b, 6, Duration.ZERO);
        b.runDue();
        for (int round = 0; round < 2; round++) {
            evaluate(a);
            evaluate(b);
        }
        assertThat(status(a).total()).isEqualTo(12);
        assertThat(status(b).total()).isEqualTo(12);
        assertThat(status(a).level()).isEqualTo(AlarmLevel.ALARMING);
        assertThat(status(b).level()).isEqualTo(AlarmLevel.ALARMING);
        assertThat(eventTypes()).as("raised once over both nodes").containsExactly(TargetEvent.Type.ALARM_RAISED);

        // Node a is killed: it does nothing more (its engine runs no step from here on; it is closed only at the end).
        // The alarm is in the store, not in a: b keeps it, neither clears nor raises it again, and a node that starts
        // in a's place adopts it.
        b.advance(Duration.ofSeconds(20)); // past a's lease: b may rescue its claims
        ManualEngine replacement = engine("c");
        evaluate(b);
        evaluate(b);
        evaluate(replacement);
        assertThat(status(b).level()).isEqualTo(AlarmLevel.ALARMING);
        assertThat(status(replacement).level()).isEqualTo(AlarmLevel.ALARMING);
        assertThat(eventTypes()).containsExactly(TargetEvent.Type.ALARM_RAISED);
    }
}
