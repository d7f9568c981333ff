package dev.hourglass.schedules;

import dev.hourglass.core.model.JobId;
import dev.hourglass.store.jdbc.SqlDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The schedules kept in a SQL job store's database (the tables of the stores' {@code V7__schedules.sql} on SQLite,
 * {@code V9__schedules.sql} on PostgreSQL), through the store's {@link SqlDatabase} capability: reads on its read
 * connections, writes in its durable transactions on its writer. The same SQL runs on both.
 *
 * <p>{@link #create} arbitrates a name with {@code ON CONFLICT DO NOTHING}; {@link #replace} is an
 * {@code UPDATE ... WHERE version = ?}, and the run records it adds are in the same transaction, so a run is recorded
 * exactly when the state that counts it is. A run recorded again for the same nominal time (its replacement after a
 * resume or a change) takes the new job.
 */
public final class JdbcScheduleStore implements ScheduleStore {
    private static final String COLUMNS = "id, tenant, name, definition, paused, version, revision, created_at, "
            + "updated_at, materialized_through, materialize_at, next_run_at, missed_runs, skipped_runs";
    private static final String INSERT = "INSERT INTO schedules (" + COLUMNS + ") "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
    private static final String UPDATE = "UPDATE schedules SET name = ?, definition = ?, paused = ?, version = ?, "
            + "revision = ?, updated_at = ?, materialized_through = ?, materialize_at = ?, next_run_at = ?, "
            + "missed_runs = ? WHERE id = ? AND version = ?";
    /** Not a compare-and-set: {@link #replace} leaves skipped_runs alone, so the two never undo each other. */
    private static final String COUNT_SKIPPED = "UPDATE schedules SET skipped_runs = skipped_runs + 1 WHERE id = ?";
    private static final String INSERT_RUN = "INSERT INTO schedule_runs (schedule_id, nominal_at, job_id) "
            + "VALUES (?, ?, ?) ON CONFLICT (schedule_id, nominal_at) DO UPDATE SET job_id = excluded.job_id";
    private static final String INSERT_KEY = "INSERT INTO schedule_keys (tenant, idempotency_key, request_hash, "
            + "schedule_id) VALUES (?, ?, ?, ?)";
    private static final String FIND_KEY = "SELECT schedule_id, request_hash FROM schedule_keys "
            + "WHERE tenant = ? AND idempotency_key = ?";
    private static final String FIND = "SELECT " + COLUMNS + " FROM schedules WHERE tenant = ? AND id = ?";
    private static final String FIND_BY_NAME = "SELECT " + COLUMNS + " FROM schedules WHERE tenant = ? AND name = ?";
    private static final String LIST = "SELECT " + COLUMNS + " FROM schedules WHERE tenant = ? AND id > ? "
            + "ORDER BY id LIMIT ?";
    private static final String DELETE = "DELETE FROM schedules WHERE tenant = ? AND id = ?";
    private static final String DUE = "SELECT " + COLUMNS + " FROM schedules WHERE materialize_at IS NOT NULL "
            + "AND materialize_at <= ? ORDER BY materialize_at LIMIT ?";
    private static final String RUNS_AFTER = "SELECT schedule_id, nominal_at, job_id FROM schedule_runs "
            + "WHERE schedule_id = ? AND nominal_at > ? ORDER BY nominal_at";
    private static final String FORGET_RUN = "DELETE FROM schedule_runs WHERE schedule_id = ? AND nominal_at = ?";
    private static final String RUN_BEFORE = "SELECT schedule_id, nominal_at, job_id FROM schedule_runs "
            + "WHERE schedule_id = ? AND nominal_at < ? ORDER BY nominal_at DESC LIMIT 1";

    private final SqlDatabase database;

    private JdbcScheduleStore(SqlDatabase database) {
        this.database = database;
    }

    /** The schedule store kept in {@code database}. */
    public static JdbcScheduleStore on(SqlDatabase database) {
        return new JdbcScheduleStore(Objects.requireNonNull(database, "database"));
    }

    @Override
    public CreateResult create(Schedule schedule, String idempotencyKey, byte[] requestHash) {
        CreateResult result = database.writeSql("create schedule " + schedule.id(), connection -> {
            if (idempotencyKey != null) {
                CreateResult earlier = byKey(connection, schedule.tenant(), idempotencyKey, requestHash);
                if (earlier != null) {
                    return earlier;
                }
            }
            try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
                insert.setString(1, schedule.id());
                insert.setString(2, schedule.tenant());
                insert.setString(3, schedule.name());
                insert.setString(4, DefinitionJson.write(schedule.definition()));
                insert.setBoolean(5, schedule.paused());
                insert.setLong(6, schedule.version());
                insert.setLong(7, schedule.revision());
                insert.setLong(8, schedule.createdAt().toEpochMilli());
                insert.setLong(9, schedule.updatedAt().toEpochMilli());
                setMillis(insert, 10, schedule.materializedThrough());
                setMillis(insert, 11, schedule.materializeAt());
                setMillis(insert, 12, schedule.nextRunAt());
                insert.setLong(13, schedule.missedRuns());
                insert.setLong(14, schedule.skippedRuns());
                if (insert.executeUpdate() == 0) {
                    return new CreateResult.NameTaken();
                }
            }
            if (idempotencyKey != null) {
                try (PreparedStatement key = connection.prepareStatement(INSERT_KEY)) {
                    key.setString(1, schedule.tenant());
                    key.setString(2, idempotencyKey);
                    key.setBytes(3, requestHash);
                    key.setString(4, schedule.id());
                    key.executeUpdate();
                }
            }
            return new CreateResult.Created(schedule);
        });
        if (result instanceof CreateResult.NameTaken && idempotencyKey != null) {
            // Two calls with one key race on PostgreSQL: the name's arbitration waited for the first to commit, whose
            // key is visible now. The second is its repeat (or a conflict), not a second schedule of that name.
            CreateResult earlier = database.readSql("find schedule by key", connection ->
                    byKey(connection, schedule.tenant(), idempotencyKey, requestHash));
            if (earlier != null) {
                return earlier;
            }
        }
        return result;
    }

    private static CreateResult byKey(Connection connection, String tenant, String key, byte[] requestHash)
            throws SQLException {
        try (PreparedStatement find = connection.prepareStatement(FIND_KEY)) {
            find.setString(1, tenant);
            find.setString(2, key);
            try (ResultSet rs = find.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                String id = rs.getString(1);
                return Arrays.equals(rs.getBytes(2), requestHash)
                        ? new CreateResult.Duplicate(id) : new CreateResult.Conflict(id);
            }
        }
    }

    @Override
    public Optional<Schedule> find(String tenant, String id) {
        return one("find schedule " + id, FIND, tenant, id);
    }

    @Override
    public Optional<Schedule> findByName(String tenant, String name) {
        return one("find schedule named " + name, FIND_BY_NAME, tenant, name);
    }

    /** The schedule {@code sql} finds by tenant and one more text, if any. */
    private Optional<Schedule> one(String what, String sql, String tenant, String value) {
        return database.readSql(what, connection -> {
            try (PreparedStatement find = connection.prepareStatement(sql)) {
                find.setString(1, tenant);
                find.setString(2, value);
                try (ResultSet rs = find.executeQuery()) {
                    return rs.next() ? Optional.of(schedule(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<Schedule> list(String tenant, String afterId, int limit) {
        return database.readSql("list schedules of " + tenant, connection -> {
            try (PreparedStatement list = connection.prepareStatement(LIST)) {
                list.setString(1, tenant);
                list.setString(2, afterId == null ? "" : afterId);
                list.setInt(3, limit);
                return schedules(list);
            }
        });
    }

    @Override
    public boolean replace(Schedule expected, Schedule next, List<ScheduleRun> runs) {
        if (!expected.id().equals(next.id()) || next.version() != expected.version() + 1) {
            throw new IllegalArgumentException("a replacement must be the next version of the same schedule");
        }
        return database.writeSql("update schedule " + next.id(), connection -> {
            try (PreparedStatement update = connection.prepareStatement(UPDATE)) {
                update.setString(1, next.name());
                update.setString(2, DefinitionJson.write(next.definition()));
                update.setBoolean(3, next.paused());
                update.setLong(4, next.version());
                update.setLong(5, next.revision());
                update.setLong(6, next.updatedAt().toEpochMilli());
                setMillis(update, 7, next.materializedThrough());
                setMillis(update, 8, next.materializeAt());
                setMillis(update, 9, next.nextRunAt());
                update.setLong(10, next.missedRuns());
                update.setString(11, next.id());
                update.setLong(12, expected.version());
                if (update.executeUpdate() == 0) {
                    return false;
                }
            }
            if (!runs.isEmpty()) {
                try (PreparedStatement insert = connection.prepareStatement(INSERT_RUN)) {
                    for (ScheduleRun run : runs) {
                        insert.setString(1, run.scheduleId());
                        insert.setLong(2, run.nominalAt().toEpochMilli());
                        insert.setString(3, run.jobId().toString());
                        insert.addBatch();
                    }
                    insert.executeBatch();
                }
            }
            return true;
        });
    }

    @Override
    public boolean delete(String tenant, String id) {
        return database.writeSql("delete schedule " + id, connection -> {
            try (PreparedStatement delete = connection.prepareStatement(DELETE)) {
                delete.setString(1, tenant);
                delete.setString(2, id);
                return delete.executeUpdate() == 1;
            }
        });
    }

    @Override
    public List<Schedule> dueForMaterializing(Instant through, int limit) {
        return database.readSql("schedules due for materializing", connection -> {
            try (PreparedStatement due = connection.prepareStatement(DUE)) {
                due.setLong(1, through.toEpochMilli());
                due.setInt(2, limit);
                return schedules(due);
            }
        });
    }

    @Override
    public List<ScheduleRun> runsAfter(String scheduleId, Instant after) {
        return database.readSql("runs of schedule " + scheduleId, connection -> {
            try (PreparedStatement runs = connection.prepareStatement(RUNS_AFTER)) {
                runs.setString(1, scheduleId);
                runs.setLong(2, after.toEpochMilli());
                List<ScheduleRun> found = new ArrayList<>();
                try (ResultSet rs = runs.executeQuery()) {
                    while (rs.next()) {
                        found.add(run(rs));
                    }
                }
                return found;
            }
        });
    }

    @Override
    public void countSkipped(String scheduleId) {
        database.writeSql("count a skipped run of schedule " + scheduleId, connection -> {
            try (PreparedStatement update = connection.prepareStatement(COUNT_SKIPPED)) {
                update.setString(1, scheduleId);
                return update.executeUpdate();
            }
        });
    }

    @Override
    public void forgetRuns(String scheduleId, List<Instant> nominal) {
        if (nominal.isEmpty()) {
            return;
        }
        database.writeSql("forget runs of schedule " + scheduleId, connection -> {
            try (PreparedStatement delete = connection.prepareStatement(FORGET_RUN)) {
                for (Instant at : nominal) {
                    delete.setString(1, scheduleId);
                    delete.setLong(2, at.toEpochMilli());
                    delete.addBatch();
                }
                delete.executeBatch();
            }
            return null;
        });
    }

    @Override
    public Optional<ScheduleRun> runBefore(String scheduleId, Instant nominal) {
        return database.readSql("run of schedule " + scheduleId, connection -> {
            try (PreparedStatement before = connection.prepareStatement(RUN_BEFORE)) {
                before.setString(1, scheduleId);
                before.setLong(2, nominal.toEpochMilli());
                try (ResultSet rs = before.executeQuery()) {
                    return rs.next() ? Optional.of(run(rs)) : Optional.empty();
                }
            }
        });
    }

    private static List<Schedule> schedules(PreparedStatement query) throws SQLException {
        List<Schedule> found = new ArrayList<>();
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                found.add(schedule(rs));
            }
        }
        return found;
    }

    private static Schedule schedule(ResultSet rs) throws SQLException {
        return new Schedule(rs.getString("id"), rs.getString("tenant"), DefinitionJson.read(rs.getString("definition")),
                rs.getBoolean("paused"), rs.getLong("version"), rs.getLong("revision"),
                Instant.ofEpochMilli(rs.getLong("created_at")),
                Instant.ofEpochMilli(rs.getLong("updated_at")), millis(rs, "materialized_through"),
                millis(rs, "materialize_at"), millis(rs, "next_run_at"), null,
                rs.getLong("missed_runs"), rs.getLong("skipped_runs"));
    }

    private static ScheduleRun run(ResultSet rs) throws SQLException {
        return new ScheduleRun(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)), JobId.parse(rs.getString(3)));
    }

    private static Instant millis(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(value);
    }

    private static void setMillis(PreparedStatement statement, int index, Instant value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.BIGINT);
        } else {
            statement.setLong(index, value.toEpochMilli());
        }
    }
}
