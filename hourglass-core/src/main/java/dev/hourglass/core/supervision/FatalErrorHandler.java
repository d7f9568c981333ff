package dev.hourglass.core.supervision;

/**
 * What the embedding application does when the engine fails ({@link EngineFailure}): called once, on the thread
 * that failed, after the engine has logged the failure and stopped firing and renewing its lease.
 *
 * <p>The default, {@link #STAY_UP}, keeps the process running: {@code Hourglass.failure()} reports the failure for
 * the application's health check, and other nodes rescue this node's jobs when its lease runs out. A process that
 * a supervisor (systemd, Kubernetes) restarts should use {@link #haltProcess}: the restart is cheap, and everything
 * the engine acknowledged is durable.
 */
@FunctionalInterface
public interface FatalErrorHandler {

    /** The exit status {@link #haltProcess} uses by default: EX_SOFTWARE of sysexits.h, an internal error. */
    int EXIT_STATUS = 70;

    /** Does nothing more: the failure stays visible through {@code Hourglass.failure()}. */
    FatalErrorHandler STAY_UP = failure -> {};

    void engineFailed(EngineFailure failure);

    /**
     * Ends the process at once with {@code status}, without shutdown hooks: after an {@link Error} the JVM may not
     * be able to run them (a hook that waits on a dead thread would keep the process up), and nothing is lost by not
     * running them, since every acknowledged write is already durable.
     */
    static FatalErrorHandler haltProcess(int status) {
        return failure -> {
            System.err.println("hourglass: " + failure.describe() + "; exiting with status " + status);
            System.err.flush();
            Runtime.getRuntime().halt(status);
        };
    }
}
