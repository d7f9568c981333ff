package dev.hourglass.core.engine;

/**
 * The engine's background loops as explicit steps, for a test driver (hourglass-testing's {@code ManualEngine}):
 * an engine built with {@link Hourglass.Builder#manualLoops()} starts no timer thread, no horizon or reconciler
 * rounds and no delay thread; time-driven work happens only when a step is called, on the caller's thread, so tests
 * never sleep to let time pass. The writer and the dispatcher still run on threads of their own (they have no clock:
 * they take work as it comes); {@link #idle()} tells when they have none left.
 *
 * <p>Each step does exactly what the thread it replaces does in one turn, with the engine's clock as it is now:
 * move the clock first (a manual clock), then call the step.
 */
public interface EngineLoops {

    /**
     * The timer's turn: hands every job due on the wall clock now to the dispatcher (which starts it, subject to
     * the slots and the tenants' shares). Returns how many were handed on.
     */
    int fireDue();

    /**
     * One horizon round, as the loader runs every load interval: renews this node's lease, rescues the claims of
     * nodes whose lease expired, claims the jobs due within the horizon into the timer, and prunes terminal jobs
     * past their retention.
     */
    void runHorizonRound();

    /** One round of the reconciler: looks up writes whose answer was lost, and sweeps a lost claim's jobs back. */
    void runReconcilerRound();

    /**
     * Runs the delayed work whose time has come on the ticker: attempt timeouts (a handler past its timeout is
     * interrupted and its attempt recorded as timed out) and outcome writes waiting to be tried again. Returns how
     * many ran.
     */
    int runDueDelays();

    /** True when nothing is in flight: no due job waiting for a slot, no attempt running, no write pending. */
    boolean idle();
}
