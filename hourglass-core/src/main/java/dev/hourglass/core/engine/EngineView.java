package dev.hourglass.core.engine;

import dev.hourglass.core.store.JobStore;
import java.time.InstantSource;

/**
 * The parts of a running engine that a metrics binding reads: values it samples when asked, never a way to change
 * the engine.
 */
public interface EngineView {

    /** This node's id (the claim owner). */
    String nodeId();

    /** The store, for the binding's own bounded reads (pending counts). */
    JobStore store();

    /** The clock that decides "is it due" (the cluster's, on a shared store). */
    InstantSource wallClock();

    /** Jobs held in the in-memory timer now. */
    int timerEntries();

    /** False while the store cannot be reached. */
    boolean storeReachable();
}
