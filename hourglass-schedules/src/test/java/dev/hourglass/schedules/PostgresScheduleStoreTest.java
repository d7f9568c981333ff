package dev.hourglass.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.postgres.PostgresJobStore;
import dev.hourglass.store.postgres.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The schedule store's contract on a real PostgreSQL server, each test in a schema of its own. */
class PostgresScheduleStoreTest extends ScheduleStoreContract {
    private final List<String> schemas = new ArrayList<>();
    private final List<JobStore> others = new ArrayList<>();

    @Override
    protected JobStore openStore() {
        String schema = TestDatabase.newSchemaName();
        schemas.add(schema);
        return PostgresJobStore.open(TestDatabase.options(schema));
    }

    @AfterEach
    void dropSchemas() {
        others.forEach(JobStore::close);
        if (jobs != null) {
            jobs.close();
            jobs = null;
        }
        schemas.forEach(TestDatabase::dropSchema);
    }

    @Test
    void everyNodeOnTheSchemaSeesTheSameSchedules() {
        PostgresJobStore node = PostgresJobStore.open(((PostgresJobStore) jobs).options());
        others.add(node);
        ScheduleStore fromNode = JdbcScheduleStore.on((SqlDatabase) node);
        store.create(schedule("sch_a", "acme", "nightly"));
        assertThat(fromNode.find("acme", "sch_a")).isPresent();
        assertThat(fromNode.create(schedule("sch_b", "acme", "nightly"))).as("name taken, seen from a node")
                .isFalse();
    }
}
