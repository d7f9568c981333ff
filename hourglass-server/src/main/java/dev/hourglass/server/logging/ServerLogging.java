package dev.hourglass.server.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.joran.util.ConfigurationWatchListUtil;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import dev.hourglass.server.StartupException;
import java.net.URL;
import org.slf4j.LoggerFactory;

/**
 * Applies {@link LogOptions} to the process's logging: reloads the logging configuration Logback started with (the
 * server's {@code logback.xml}, or the operator's {@code -Dlogback.configurationFile}) with the options as its
 * properties, {@value #FORMAT_PROPERTY} ({@code text} or {@code json}) and {@value #ACCESS_LOG_PROPERTY} (the access
 * logger's level, {@code INFO} or {@code OFF}). Process-wide: the command line calls it once, before the server
 * starts; an embedding application configures its own logging instead.
 */
public final class ServerLogging {
    public static final String FORMAT_PROPERTY = "hourglass.log.format";
    public static final String ACCESS_LOG_PROPERTY = "hourglass.access.log";
    private static final String DEFAULT_CONFIGURATION = "/logback.xml";

    private ServerLogging() {}

    /**
     * Reconfigures Logback with {@code options}. Does nothing when SLF4J is bound to another logging library, whose
     * configuration is then the operator's.
     *
     * @throws StartupException when the configuration cannot be loaded
     */
    public static void configure(LogOptions options) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        URL configuration = ConfigurationWatchListUtil.getMainWatchURL(context);
        if (configuration == null) {
            configuration = ServerLogging.class.getResource(DEFAULT_CONFIGURATION);
        }
        context.reset();
        context.getStatusManager().clear(); // from here on: what this configuration reports
        context.putProperty(FORMAT_PROPERTY, options.format().id());
        context.putProperty(ACCESS_LOG_PROPERTY, options.accessLog() ? "INFO" : "OFF");
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(configuration);
        } catch (JoranException e) {
            throw new StartupException("cannot load the logging configuration " + configuration + ": "
                    + e.getMessage(), e);
        }
        if (new StatusUtil(context).getHighestLevel(0) >= Status.ERROR) {
            throw new StartupException("the logging configuration " + configuration + " has errors: "
                    + context.getStatusManager().getCopyOfStatusList().stream()
                            .filter(s -> s.getLevel() >= Status.ERROR).map(Status::getMessage).toList());
        }
    }
}
