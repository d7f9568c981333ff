package dev.hourglass.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hourglass.testing.ThreadFaults;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose engine fails (an Error in its timer thread, injected through its clocks): the failure goes to the
 * process's default uncaught-exception handler, which the command line sets to end the process
 * ({@code ProcessSupervisorTest}), and {@code /healthz} and {@code /readyz} answer 503 {@code engine-failed}, so a
 * liveness probe restarts a server embedded where nobody ends the process.
 */
class EngineFailureOverHttpTest {
    @TempDir
    Path dir;

    @Test
    void anEngineFailureReachesTheProcessHandlerAndFailsLivenessAndReadiness() {
        ThreadFaults faults = new ThreadFaults();
        List<Throwable> toProcess = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> toProcess.add(error));
        try (ServerFixture api = ServerFixture.start(ServerFixture.config(dir), faults, faults)) {
            assertThat(api.get("/healthz").status()).isEqualTo(200);
            assertThat(api.get("/readyz").status()).isEqualTo(200);

            ThreadFaults.InjectedError injected = faults.arm("hourglass-timer");
            // Awaitility would put its own default handler in place of the test's while it waits.
            await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(10)).until(() -> !toProcess.isEmpty());
            assertThat(toProcess).containsExactly(injected);

            for (String probe : List.of("/healthz", "/readyz")) {
                ServerFixture.Response answer = api.get(probe);
                assertThat(answer.status()).as(probe).isEqualTo(503);
                assertThat(answer.json().get("type").asText()).isEqualTo("urn:hourglass:problem:engine-failed");
                assertThat(answer.json().get("detail").asText())
                        .contains("engine thread hourglass-timer failed").contains("restart the process");
            }
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }
}
