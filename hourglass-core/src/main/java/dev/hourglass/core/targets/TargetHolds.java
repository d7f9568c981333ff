package dev.hourglass.core.targets;

import dev.hourglass.core.store.TargetState;

/**
 * Where a paused target's due jobs are held: the engine's dispatcher. The monitor tells it which targets are
 * paused; it tells the monitor how each probe went ({@link TargetMonitor#probeEnded}).
 */
public interface TargetHolds {
    /** Nothing is held (a monitor outside an engine, in tests). */
    TargetHolds NONE = new TargetHolds() {
        @Override
        public void pause(TargetKey key, TargetState.Pause mode) {}

        @Override
        public void resume(TargetKey key) {}

        @Override
        public int held(TargetKey key) {
            return 0;
        }

        @Override
        public void probeDue(TargetKey key) {}
    };

    /** From now on the target's due jobs are held, not started (a job already running finishes). */
    void pause(TargetKey key, TargetState.Pause mode);

    /** The target's held jobs start again, a few at a time at first (1, 2, 4, ... at once) as they succeed. */
    void resume(TargetKey key);

    /** How many of the target's due jobs this node holds. */
    int held(TargetKey key);

    /** Let one held job of the paused target through, as a probe; how it went comes back in probeEnded. */
    void probeDue(TargetKey key);
}
