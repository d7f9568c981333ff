package dev.hourglass.core.engine;

import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.model.Job;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names the target of each claimed job ({@link JobHandler#targetOf}) for its timer entry, so that the dispatcher can
 * hold the due jobs of a paused target without reading them again. Names are cached by (handler, target text):
 * a webhook target is parsed once per distinct target, not once per job, and an entry holds the one cached name.
 * {@link JobHandler#targetOf} must therefore depend on the job's handler and target only.
 *
 * <p>Off ({@link #OFF}) when no target is watched: every name is null and nothing is computed.
 */
final class TargetNames {
    private static final Logger log = LoggerFactory.getLogger(TargetNames.class);
    /** Distinct (handler, target) pairs cached; past it the cache starts over (targets repeat, so it rarely fills). */
    static final int MAX_CACHED = 10_000;
    static final TargetNames OFF = new TargetNames(null);

    private final Map<String, JobHandler> handlers;
    /** handler name -> target text -> name; the null target under the empty text. */
    private final Map<String, Map<String, String>> cache = new ConcurrentHashMap<>();

    /** @param handlers the engine's handlers by name; null for {@link #OFF} */
    TargetNames(Map<String, JobHandler> handlers) {
        this.handlers = handlers;
    }

    /** The name of {@code job}'s target, or null when targets are not watched. */
    String of(Job job) {
        if (handlers == null) {
            return null;
        }
        Map<String, String> byTarget = cache.computeIfAbsent(job.handler(), h -> new ConcurrentHashMap<>());
        String text = job.target() == null ? "" : job.target();
        String name = byTarget.get(text);
        if (name != null) {
            return name;
        }
        name = resolve(job);
        if (byTarget.size() >= MAX_CACHED) {
            byTarget.clear();
        }
        byTarget.put(text, name);
        return name;
    }

    private String resolve(Job job) {
        JobHandler handler = handlers.get(job.handler());
        if (handler == null) {
            return job.handler();
        }
        try {
            String name = handler.targetOf(job);
            return name != null ? name : job.handler();
        } catch (RuntimeException e) {
            log.debug("handler '{}' could not name the target of job {}: {}", job.handler(), job.id(), e.toString());
            return job.handler();
        }
    }
}
