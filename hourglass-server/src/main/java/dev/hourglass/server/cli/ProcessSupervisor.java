package dev.hourglass.server.cli;

import dev.hourglass.core.supervision.FatalErrorHandler;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server process's default uncaught-exception handler: a thread that dies of an {@link Error}, any thread of
 * Hourglass's own ({@code hourglass-*}) that dies, and every engine failure (which the server hands here) end the
 * process with status {@value FatalErrorHandler#EXIT_STATUS}. A process that stays up with a dead timer or writer
 * fires nothing and answers little; one that exits is restarted by its supervisor (systemd, Kubernetes), and a
 * restart loses nothing acknowledged. Another library's thread that dies of an exception is only logged: that
 * library owns it.
 *
 * <p>It halts rather than exits: after an {@link Error} the shutdown hooks may wait forever on a dead thread.
 */
final class ProcessSupervisor implements Thread.UncaughtExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ProcessSupervisor.class);

    private final IntConsumer halt;

    /** @param halt ends the process with the status it is given ({@code Runtime.getRuntime()::halt}) */
    ProcessSupervisor(IntConsumer halt) {
        this.halt = halt;
    }

    @Override
    public void uncaughtException(Thread thread, Throwable error) {
        if (!(error instanceof Error) && !thread.getName().startsWith("hourglass-")) {
            log.error("thread {} died", thread.getName(), error);
            return;
        }
        try {
            log.error("thread {} died of {}; exiting with status {} so that the process is restarted",
                    thread.getName(), error.toString(), FatalErrorHandler.EXIT_STATUS, error);
            System.err.println("hourglass: thread " + thread.getName() + " died of " + error + "; exiting with status "
                    + FatalErrorHandler.EXIT_STATUS);
            System.err.flush();
        } finally {
            halt.accept(FatalErrorHandler.EXIT_STATUS);
        }
    }
}
