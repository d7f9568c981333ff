package dev.hourglass.store.sqlite;

import static dev.hourglass.store.testkit.TestJobs.job;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.NewJob;
import dev.hourglass.core.store.InsertResult;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store reuses one prepared statement per SQL text across transactions, so a statement must hold nothing of one
 * transaction when the next uses it: a row added to a batch by an operation that then failed before the batch ran
 * would otherwise run again with another caller's rows. Here a row is left on the cached insert statement on purpose
 * (what a failure between {@code addBatch} and {@code executeBatch} leaves), on the store's schema, to check that
 * both the end of a transaction and the next use of the statement empty it.
 */
class SqliteTxStatementsTest {
    @TempDir
    Path dir;

    private Connection connection;
    private final Map<String, PreparedStatement> cache = new HashMap<>();

    @BeforeEach
    void openTheSchema() throws SQLException {
        Path file = dir.resolve("statements.db");
        SqliteJobStore.open(file).close(); // creates and migrates the schema
        connection = DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    @AfterEach
    void close() throws SQLException {
        connection.close();
    }

    private SqliteTx tx() {
        return new SqliteTx(sql -> {
            PreparedStatement statement = cache.get(sql);
            if (statement == null) {
                statement = connection.prepareStatement(sql);
                cache.put(sql, statement);
            }
            return statement;
        }, "test");
    }

    /** Binds {@code stray} to the cached insert statement and adds it to its batch, as a half-done insert would. */
    private void leaveARowOnTheInsertStatement(NewJob stray) throws SQLException {
        PreparedStatement insert = cache.get(SqliteTx.INSERT);
        insert.setLong(1, stray.id().hi());
        insert.setLong(2, stray.id().lo());
        insert.setString(3, stray.tenant());
        insert.setString(4, stray.handler());
        insert.setString(5, null);
        insert.setBytes(6, stray.payload());
        insert.setString(7, "SCHEDULED");
        for (int i = 8; i <= 10; i++) {
            insert.setLong(i, 0);
        }
        insert.setInt(11, 1);
        insert.setLong(12, 1);
        insert.setLong(13, 1);
        for (int i = 14; i <= 17; i++) {
            insert.setObject(i, null);
        }
        insert.addBatch();
    }

    private int jobs() throws SQLException {
        try (var count = connection.createStatement(); ResultSet rs = count.executeQuery("SELECT count(*) FROM jobs")) {
            return rs.next() ? rs.getInt(1) : -1;
        }
    }

    @Test
    void theEndOfATransactionEmptiesEveryStatementItUsed() throws SQLException {
        SqliteTx first = tx();
        assertThat(first.insert(List.of(job().build()))).singleElement().isInstanceOf(InsertResult.Created.class);
        leaveARowOnTheInsertStatement(job().build());

        assertThat(first.end()).isTrue();

        assertThat(cache.get(SqliteTx.INSERT).executeBatch()).as("the batch left on the statement").isEmpty();
        assertThat(jobs()).isOne();
    }

    @Test
    void theNextUseOfAStatementRunsOnlyItsOwnRows() throws SQLException {
        SqliteTx first = tx();
        assertThat(first.insert(List.of(job().build()))).singleElement().isInstanceOf(InsertResult.Created.class);
        first.end();
        NewJob stray = job().build();
        leaveARowOnTheInsertStatement(stray); // as if the end had been bypassed

        NewJob mine = job().build();
        assertThat(tx().insert(List.of(mine))).singleElement().isInstanceOf(InsertResult.Created.class);

        assertThat(jobs()).isEqualTo(2);
        try (var find = connection.prepareStatement("SELECT count(*) FROM jobs WHERE seq = ?")) {
            find.setLong(1, stray.id().hi());
            try (ResultSet rs = find.executeQuery()) {
                assertThat(rs.next() ? rs.getInt(1) : -1).as("the stray row").isZero();
            }
        }
    }
}
