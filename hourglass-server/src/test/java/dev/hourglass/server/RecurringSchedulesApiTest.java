package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.ServerFixture.Response;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /v1/schedules} on a real server, SQLite file and HTTP client: every answer held to the OpenAPI contract,
 * bad input refused naming the field with nothing stored, and the runs created as jobs that list with their
 * schedule.
 */
class RecurringSchedulesApiTest {
    @TempDir
    static Path dir;
    static ServerFixture server;
    static Receiver receiver;
    static int names;

    @BeforeAll
    static void start() {
        server = ServerFixture.start(dir);
        receiver = new Receiver();
    }

    @AfterAll
    static void stop() {
        server.close();
        receiver.close();
    }

    private static String target() {
        return "{\"type\": \"webhook\", \"url\": \"" + receiver.url("/hook") + "\"}";
    }

    private static String uniqueName() {
        return "schedule-" + (++names);
    }

    private static JsonNode create(String fields) {
        Response r = server.post("/v1/schedules", "{\"name\": \"" + uniqueName() + "\", \"target\": " + target()
                + ", " + fields + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.header("Location")).isEqualTo("/v1/schedules/" + r.json().get("id").asText());
        return r.json();
    }

    @Test
    void aCronScheduleIsCreatedWithItsDefaultsAndItsNextRun() {
        JsonNode schedule = create("\"cron\": \"0 9 * * MON-FRI\", \"timezone\": \"Europe/Amsterdam\", "
                + "\"payload\": {\"report\": \"daily\"}");
        assertThat(schedule.get("id").asText()).startsWith("sch_");
        assertThat(schedule.get("cron").asText()).isEqualTo("0 9 * * MON-FRI");
        assertThat(schedule.get("dstGap").asText()).isEqualTo("shift");
        assertThat(schedule.get("overlap").asText()).isEqualTo("skip");
        assertThat(schedule.get("misfire").asText()).isEqualTo("fireOnce");
        assertThat(schedule.get("catchupWindowSeconds").asLong()).isEqualTo(3600);
        assertThat(schedule.get("payload").get("report").asText()).isEqualTo("daily");
        assertThat(schedule.get("paused").asBoolean()).isFalse();
        Instant next = Instant.parse(schedule.get("nextRunAt").asText());
        assertThat(next).isAfter(Instant.now());
        assertThat(server.get("/v1/schedules/" + schedule.get("id").asText()).json()).isEqualTo(schedule);

        // The next run exists already, as a job that names its schedule.
        List<JsonNode> runs = runsOf(schedule.get("id").asText());
        assertThat(runs).singleElement().satisfies(job -> {
            assertThat(job.get("state").asText()).isEqualTo("SCHEDULED");
            assertThat(Instant.parse(job.get("dueAt").asText())).isEqualTo(next);
        });
    }

    @Test
    void theSameIdempotencyKeyAndBodyFindTheScheduleAnotherBodyIsAConflict() {
        String body = "{\"name\": \"keyed\", \"every\": \"PT1H\", \"target\": " + target() + "}";
        Response first = server.post("/v1/schedules", body, "Idempotency-Key", "sched-key-1");
        assertThat(first.status()).as(first.body()).isEqualTo(201);
        Response again = server.post("/v1/schedules", body, "Idempotency-Key", "sched-key-1");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));
        Response other = server.post("/v1/schedules", body.replace("PT1H", "PT2H"), "Idempotency-Key",
                "sched-key-1");
        assertThat(other.status()).isEqualTo(409);
        assertThat(other.json().get("type").asText()).isEqualTo("urn:hourglass:problem:idempotency-conflict");
        assertThat(other.json().get("scheduleId")).isEqualTo(first.json().get("id"));
        Response sameName = server.post("/v1/schedules", body);
        assertThat(sameName.status()).isEqualTo(409);
        assertThat(sameName.json().get("type").asText()).isEqualTo("urn:hourglass:problem:schedule-name-taken");
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndNothingIsStored() {
        int before = allSchedules().size();
        int jobsBefore = server.allJobs().size();
        assertRefused("\"cron\": \"61 * * * *\", \"timezone\": \"UTC\"", 400, "cron");
        assertRefused("\"cron\": \"0 0 * * *\", \"timezone\": \"Mars/Olympus\"", 400, "timezone");
        assertRefused("\"cron\": \"0 0 * * *\"", 400, "timezone");
        assertRefused("\"every\": \"PT0.5S\"", 400, "every");
        assertRefused("\"every\": \"often\"", 400, "every");
        assertRefused("\"cron\": \"0 0 * * *\", \"timezone\": \"UTC\", \"every\": \"PT1H\"", 400, "every");
        assertRefused("\"payload\": 1", 400, "cron");
        assertRefused("\"every\": \"PT1H\", \"startAt\": \"2031-01-01T00:00:00Z\", "
                + "\"endAt\": \"2030-01-01T00:00:00Z\"", 400, "endAt");
        assertRefused("\"cron\": \"0 0 30 2 *\", \"timezone\": \"UTC\"", 400, "cron");
        assertRefused("\"every\": \"PT1H\", \"misfire\": \"sometimes\"", 400, "misfire");
        assertRefused("\"every\": \"PT1H\", \"jitterSeconds\": -1", 400, "jitterSeconds");
        assertRefused("\"every\": \"PT1H\", \"colour\": \"blue\"", 400, "colour");
        assertRefused("\"every\": \"PT1H\", \"payload\": \"" + "x".repeat(300_000) + "\"", 413, "payload");
        Response noTarget = server.post("/v1/schedules", "{\"name\": \"t\", \"every\": \"PT1H\"}");
        assertThat(noTarget.status()).isEqualTo(400);
        assertThat(noTarget.json().get("errors").get(0).get("field").asText()).isEqualTo("target");
        assertThat(allSchedules()).hasSize(before);
        assertThat(server.allJobs()).hasSize(jobsBefore);
    }

    private static void assertRefused(String fields, int status, String field) {
        Response r = server.post("/v1/schedules", "{\"name\": \"" + uniqueName() + "\", \"target\": " + target()
                + ", " + fields + "}");
        assertThat(r.status()).as(fields + " -> " + r.body()).isEqualTo(status);
        assertThat(r.contentType()).isEqualTo("application/problem+json");
        List<String> fieldsNamed = new ArrayList<>();
        r.json().get("errors").forEach(e -> fieldsNamed.add(e.get("field").asText()));
        assertThat(fieldsNamed).as(r.body()).contains(field);
    }

    @Test
    void previewShowsTheNextRunsInTheSchedulesZone() {
        JsonNode schedule = create("\"cron\": \"30 2 * * *\", \"timezone\": \"America/New_York\", "
                + "\"startAt\": \"2030-03-09T00:00:00Z\"");
        Response r = server.get("/v1/schedules/" + schedule.get("id").asText() + "/preview?n=3");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode runs = r.json().get("runs");
        // 2030-03-10 is New York's spring change: 02:30 runs once at 03:30 EDT.
        assertThat(runs).hasSize(3);
        assertThat(runs.get(0).get("local").asText()).isEqualTo("2030-03-09T02:30:00-05:00");
        assertThat(runs.get(1).get("local").asText()).isEqualTo("2030-03-10T03:30:00-04:00");
        assertThat(runs.get(1).get("at").asText()).isEqualTo("2030-03-10T07:30:00.000Z");
        assertThat(runs.get(2).get("local").asText()).isEqualTo("2030-03-11T02:30:00-04:00");
        assertThat(server.get("/v1/schedules/" + schedule.get("id").asText() + "/preview?n=0").status())
                .isEqualTo(400);
    }

    @Test
    void pauseCancelsThePendingRunAndResumeCreatesTheNextOne() {
        JsonNode schedule = create("\"every\": \"PT1H\"");
        String id = schedule.get("id").asText();
        String pending = runsOf(id).getFirst().get("id").asText();

        Response paused = server.post("/v1/schedules/" + id + "/pause", "");
        assertThat(paused.status()).as(paused.body()).isEqualTo(200);
        assertThat(paused.json().get("paused").asBoolean()).isTrue();
        assertThat(paused.json().get("nextRunAt").isNull()).isTrue();
        assertThat(server.state(pending)).isEqualTo("CANCELLED");

        Response resumed = server.post("/v1/schedules/" + id + "/resume", "");
        assertThat(resumed.status()).isEqualTo(200);
        assertThat(resumed.json().get("paused").asBoolean()).isFalse();
        assertThat(runsOf(id).stream().filter(j -> j.get("state").asText().equals("SCHEDULED"))).hasSize(1);
    }

    @Test
    void patchReplacesTheRunsToComeAndKeepsNamesUnique() {
        JsonNode schedule = create("\"cron\": \"0 3 * * *\", \"timezone\": \"UTC\"");
        String id = schedule.get("id").asText();
        String pending = runsOf(id).getFirst().get("id").asText();

        Response changed = server.patch("/v1/schedules/" + id, "{\"cron\": \"0 4 * * *\", \"jitterSeconds\": 5}");
        assertThat(changed.status()).as(changed.body()).isEqualTo(200);
        assertThat(changed.json().get("cron").asText()).isEqualTo("0 4 * * *");
        assertThat(changed.json().get("jitterSeconds").asLong()).isEqualTo(5);
        assertThat(changed.json().get("timezone").asText()).isEqualTo("UTC");
        assertThat(server.state(pending)).isEqualTo("CANCELLED");
        assertThat(Instant.parse(changed.json().get("nextRunAt").asText()).toString()).contains("T04:00:00");

        JsonNode other = create("\"every\": \"PT1H\"");
        Response clash = server.patch("/v1/schedules/" + id, "{\"name\": \"" + other.get("name").asText() + "\"}");
        assertThat(clash.status()).isEqualTo(409);
        assertThat(clash.json().get("type").asText()).isEqualTo("urn:hourglass:problem:schedule-name-taken");
        Response bad = server.patch("/v1/schedules/" + id, "{\"timezone\": \"Nowhere\"}");
        assertThat(bad.status()).isEqualTo(400);
        Response toEvery = server.patch("/v1/schedules/" + id, "{\"every\": \"PT30M\"}");
        assertThat(toEvery.status()).as(toEvery.body()).isEqualTo(200);
        assertThat(toEvery.json().has("cron")).isFalse();
        assertThat(toEvery.json().get("every").asText()).isEqualTo("PT30M");
    }

    @Test
    void triggerRunsOnceNowAsAJobOfTheSchedule() {
        JsonNode schedule = create("\"cron\": \"0 0 1 1 *\", \"timezone\": \"UTC\"");
        String id = schedule.get("id").asText();
        Response r = server.post("/v1/schedules/" + id + "/trigger", "");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().get("scheduleId").asText()).isEqualTo(id);
        assertThat(Instant.parse(r.json().get("dueAt").asText())).isBeforeOrEqualTo(Instant.now());
    }

    @Test
    void deleteCancelsTheRunsToComeAndTheScheduleIsGone() {
        JsonNode schedule = create("\"every\": \"PT1H\"");
        String id = schedule.get("id").asText();
        String pending = runsOf(id).getFirst().get("id").asText();
        Response deleted = server.delete("/v1/schedules/" + id);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(200);
        assertThat(server.state(pending)).isEqualTo("CANCELLED");
        Response gone = server.get("/v1/schedules/" + id);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().get("type").asText()).isEqualTo("urn:hourglass:problem:schedule-not-found");
        assertThat(server.delete("/v1/schedules/" + id).status()).isEqualTo(404);
    }

    @Test
    void anotherTenantsScheduleIsNotFound() {
        JsonNode schedule = create("\"every\": \"PT1H\"");
        Response admin = server.post("/v1/admin/tenants", "{\"name\": \"other-tenant\"}", ServerFixture.bearer(
                ServerFixture.ADMIN_KEY));
        assertThat(admin.status()).as(admin.body()).isEqualTo(201);
        String key = admin.json().get("apiKey").asText();
        assertThat(server.get("/v1/schedules/" + schedule.get("id").asText(), ServerFixture.bearer(key)).status())
                .isEqualTo(404);
        assertThat(server.get("/v1/schedules", ServerFixture.bearer(key)).json().get("schedules")).isEmpty();
    }

    @Test
    void listPagesInIdOrder() {
        for (int i = 0; i < 3; i++) {
            create("\"every\": \"PT6H\"");
        }
        Response first = server.get("/v1/schedules?limit=2");
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().get("schedules")).hasSize(2);
        String cursor = first.json().get("nextCursor").asText();
        Response next = server.get("/v1/schedules?limit=2&cursor=" + cursor);
        assertThat(next.json().get("schedules").get(0).get("id").asText()).isGreaterThan(cursor);
        assertThat(server.get("/v1/schedules?limit=0").status()).isEqualTo(400);
        assertThat(server.get("/v1/schedules?colour=1").status()).isEqualTo(400);
    }

    private static List<JsonNode> allSchedules() {
        List<JsonNode> all = new ArrayList<>();
        server.get("/v1/schedules?limit=1000").json().get("schedules").forEach(all::add);
        return all;
    }

    private static List<JsonNode> runsOf(String scheduleId) {
        return server.allJobs().stream().filter(job -> job.has("scheduleId")
                && job.get("scheduleId").asText().equals(scheduleId)).toList();
    }
}
