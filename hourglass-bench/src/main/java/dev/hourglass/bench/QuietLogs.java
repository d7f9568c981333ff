package dev.hourglass.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the libraries' start/stop chatter (a pool, a scheduler and a store per scenario) out of the progress lines;
 * their warnings and errors still show. Hourglass's own INFO lines stay (claims handed back at close, rescues).
 */
public final class QuietLogs {
    private QuietLogs() {}

    static void forPostgresSuite() {
        quiet("com.zaxxer.hikari", "org.quartz", "com.github.kagkarlsson", "dev.hourglass.store.postgres");
    }

    /**
     * The JMH benchmarks open and close a store and an engine per trial; their INFO lines would land inside JMH's
     * iteration lines. Called from a benchmark's setup, which runs in the forked JVM.
     */
    public static void forMicrobenchmarks() {
        quiet("dev.hourglass");
    }

    private static void quiet(String... names) {
        for (String name : names) {
            if (LoggerFactory.getLogger(name) instanceof Logger logger) {
                logger.setLevel(Level.WARN);
            }
        }
    }
}
