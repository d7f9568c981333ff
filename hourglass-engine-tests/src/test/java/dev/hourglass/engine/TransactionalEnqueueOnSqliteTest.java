package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.store.JobQuery;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded store cannot join a caller's transaction, and says so without touching the caller's connection. */
class TransactionalEnqueueOnSqliteTest {
    @TempDir
    Path dir;

    @Test
    void theSqliteStoreRefusesToScheduleInACallersTransactionWithAClearMessage() throws Exception {
        try (SqliteJobStore store = SqliteJobStore.open(dir.resolve("hourglass.db"));
                Hourglass engine = Hourglass.builder()
                        .store(store, false)
                        .config(EngineConfig.defaults("a"))
                        .handler("work", ctx -> Outcome.succeeded())
                        .build();
                Connection callerTx = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("app.db"))) {
            callerTx.setAutoCommit(false);
            try (Statement statement = callerTx.createStatement()) {
                statement.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)");
                statement.execute("INSERT INTO orders (id) VALUES (1)");
            }

            assertThatThrownBy(() -> engine.scheduleInTransaction(callerTx, JobRequest.of("work", null),
                    When.after(Duration.ofSeconds(1))))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("cannot schedule inside a caller's transaction")
                    .hasMessageContaining("single writer");

            assertThat(store.list(new JobQuery(null, null, null, 10)).jobs()).isEmpty();
            assertThat(callerTx.getAutoCommit()).isFalse();
            callerTx.commit(); // the caller's transaction went on undisturbed
            try (Statement statement = callerTx.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT count(*) FROM orders")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }
}
