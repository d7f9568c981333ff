package dev.hourglass.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the libraries' start/stop chatter (a pool, a scheduler and a store per scenario) out of the progress lines;
 * their warnings and errors still show. Hourglass's own INFO lines stay (claims handed back at close, rescues).
 */
final class QuietLogs {
    private QuietLogs() {}

    static void forPostgresSuite() {
        for (String name : new String[] {"com.zaxxer.hikari", "org.quartz", "com.github.kagkarlsson",
                "dev.hourglass.store.postgres"}) {
            if (LoggerFactory.getLogger(name) instanceof Logger logger) {
                logger.setLevel(Level.WARN);
            }
        }
    }
}
