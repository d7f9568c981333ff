package dev.hourglass.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ProcessSupervisorTest {
    private final List<Integer> halts = new CopyOnWriteArrayList<>();
    private final ProcessSupervisor supervisor = new ProcessSupervisor(halts::add);

    @Test
    void anErrorOnAnyThreadEndsTheProcessWithStatus70() {
        supervisor.uncaughtException(thread("helidon-server-1"), new OutOfMemoryError("Java heap space"));
        assertThat(halts).containsExactly(70);
    }

    @Test
    void anyExceptionThatKillsAnHourglassThreadEndsTheProcess() {
        supervisor.uncaughtException(thread("hourglass-wal-checkpoint"), new IllegalStateException("bug"));
        assertThat(halts).containsExactly(70);
    }

    @Test
    void anotherLibrarysThreadDyingOfAnExceptionIsOnlyLogged() {
        supervisor.uncaughtException(thread("HikariPool-1 housekeeper"), new IllegalStateException("theirs"));
        assertThat(halts).isEmpty();
    }

    private static Thread thread(String name) {
        return Thread.ofPlatform().name(name).unstarted(() -> {});
    }
}
