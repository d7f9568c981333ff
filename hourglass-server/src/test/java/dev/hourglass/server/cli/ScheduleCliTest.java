package dev.hourglass.server.cli;

import static dev.hourglass.server.cli.CliProcess.hourglass;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.server.ServerFixture;
import dev.hourglass.server.cli.CliProcess.Run;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hourglass schedule ...} against a running server, as a user runs it: a separate process, the tenant's key
 * in HOURGLASS_API_KEY, the server in HOURGLASS_URL.
 */
class ScheduleCliTest {
    @TempDir
    Path dir;

    @Test
    void aUserManagesSchedulesFromTheCommandLineAndIsToldWhatIsWrong() throws Exception {
        try (ServerFixture api = ServerFixture.start(dir)) {
            Map<String, String> env = Map.of("HOURGLASS_API_KEY", ServerFixture.API_KEY,
                    "HOURGLASS_URL", api.server().baseUri().toString());

            Run created = hourglass(env, "schedule", "create", "nightly", "--cron", "30 2 * * *", "--timezone",
                    "America/New_York", "--target", "http://127.0.0.1:9/hook", "--payload", "{\"kind\": \"report\"}",
                    "--header", "X-Team=ops", "--idempotency-key", "nightly-1");
            assertThat(created.code()).as(created.err()).isZero();
            String id = created.json().get("id").asText();
            assertThat(created.json().get("payload").get("kind").asText()).isEqualTo("report");
            assertThat(created.json().get("target").get("headers").get("X-Team").asText()).isEqualTo("ops");
            Run again = hourglass(env, "schedule", "create", "nightly", "--cron", "30 2 * * *", "--timezone",
                    "America/New_York", "--target", "http://127.0.0.1:9/hook", "--payload", "{\"kind\": \"report\"}",
                    "--header", "X-Team=ops", "--idempotency-key", "nightly-1");
            assertThat(again.code()).as(again.err()).isZero();
            assertThat(again.json().get("id").asText()).isEqualTo(id);

            Run preview = hourglass(env, "schedule", "preview", id, "-n", "3");
            assertThat(preview.code()).as(preview.err()).isZero();
            assertThat(preview.json().get("runs")).hasSize(3);
            assertThat(preview.json().get("runs").get(0).get("local").asText()).contains("T02:30:00-0");

            assertThat(hourglass(env, "schedule", "pause", id).json().get("paused").asBoolean()).isTrue();
            Run triggered = hourglass(env, "schedule", "trigger", id);
            assertThat(triggered.code()).as(triggered.err()).isZero();
            assertThat(triggered.json().get("scheduleId").asText()).isEqualTo(id);
            assertThat(hourglass(env, "schedule", "delete", id).json().get("deleted").asBoolean()).isTrue();
            Run gone = hourglass(env, "schedule", "show", id);
            assertThat(gone.code()).isEqualTo(1);
            assertThat(gone.err()).contains("404").contains("no schedule with id " + id);

            Run every = hourglass(env, "schedule", "create", "often", "--every", "PT15M", "--target",
                    "http://127.0.0.1:9/hook");
            assertThat(every.code()).as(every.err()).isZero();
            assertThat(every.json().get("every").asText()).isEqualTo("PT15M");
            Run listed = hourglass(env, "schedule", "list");
            assertThat(listed.json().get("schedules")).hasSize(1);

            // Mistakes are explained on one line.
            Run badCron = hourglass(env, "schedule", "create", "bad", "--cron", "61 * * * *", "--timezone", "UTC",
                    "--target", "http://127.0.0.1:9/hook");
            assertThat(badCron.code()).isEqualTo(1);
            assertThat(badCron.err().strip()).startsWith("hourglass: 400: cron: the minute field \"61\" is invalid");
            Run both = hourglass(env, "schedule", "create", "bad", "--every", "PT1M", "--cron", "* * * * *",
                    "--timezone", "UTC", "--target", "http://127.0.0.1:9/hook");
            assertThat(both.code()).isEqualTo(2);
            assertThat(both.err()).contains("mutually exclusive");
            Run noKey = hourglass(Map.of("HOURGLASS_URL", api.server().baseUri().toString()), "schedule", "list");
            assertThat(noKey.code()).isEqualTo(2);
            assertThat(noKey.err().strip()).isEqualTo("hourglass: set HOURGLASS_API_KEY to your tenant's API key");
        }
    }
}
