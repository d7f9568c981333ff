package dev.hourglass.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.supervision.FatalErrorHandler;
import dev.hourglass.store.sqlite.SqliteJobStore;
import dev.hourglass.testing.ThreadFaults;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FatalErrorHandler#haltProcess}, in a process of its own: an engine whose timer thread meets an Error ends
 * its process with the given status, so that a supervisor (systemd, Kubernetes) sees the death and restarts it,
 * rather than a process that stays up and fires nothing.
 */
class HaltOnFailureTest {
    @TempDir
    Path dir;

    @Test
    void theProcessExitsWithTheStatusWhenAnEngineThreadDies() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                FailingNode.class.getName(), dir.resolve("hourglass.db").toString()))
                .redirectErrorStream(true).start();
        boolean ended = process.waitFor(60, TimeUnit.SECONDS);
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ended) {
            process.destroyForcibly();
        }
        assertThat(ended).as("the process ended by itself; output:%n%s", output).isTrue();
        assertThat(process.exitValue()).as(output).isEqualTo(FatalErrorHandler.EXIT_STATUS);
        assertThat(output).contains("engine thread hourglass-timer failed at")
                .contains("exiting with status " + FatalErrorHandler.EXIT_STATUS);
    }

    /** The child process: an engine that halts on failure, whose timer thread is struck once it runs. */
    static final class FailingNode {
        public static void main(String[] args) throws IOException, InterruptedException {
            ThreadFaults faults = new ThreadFaults();
            Hourglass engine = Hourglass.builder()
                    .store(SqliteJobStore.open(Path.of(args[0])))
                    .clock(faults, faults)
                    .config(EngineConfig.builder("child").loadInterval(Duration.ofMillis(100)).build())
                    .onFatalError(FatalErrorHandler.haltProcess(FatalErrorHandler.EXIT_STATUS))
                    .build();
            faults.arm("hourglass-timer");
            Thread.sleep(30_000);
            engine.close();
            System.exit(0); // not reached unless the halt failed: the test then sees status 0
        }
    }
}
