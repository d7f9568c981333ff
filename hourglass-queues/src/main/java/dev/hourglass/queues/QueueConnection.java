package dev.hourglass.queues;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named connection to a message system, as given at server start ({@code --connection mq=amqp://...}). Jobs name
 * the connection, never the address or the credentials: those stay in the server's configuration, and
 * {@link #toString()} and {@link #redacted()} never show a password.
 *
 * <p>A URI may take parts from the environment as {@code ${NAME}} ({@code amqp://app:${MQ_PASSWORD}@mq:5672/prod}),
 * so that a secret need not be written in a command line or a configuration file.
 *
 * @param name how jobs name it: letters, digits, {@code -} and {@code _}, at most 64 characters
 * @param type the system, from the URI's scheme
 * @param uri the address, with credentials; never logged
 */
public record QueueConnection(String name, QueueType type, URI uri) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    public QueueConnection {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(uri, "uri");
    }

    /** True for a name a connection may have. */
    public static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /**
     * Reads {@code NAME=URI}, taking {@code ${VAR}} from the process environment.
     *
     * @throws IllegalArgumentException saying what is wrong, without the URI's credentials
     */
    public static QueueConnection parse(String spec) {
        return parse(spec, System::getenv);
    }

    /** Reads {@code NAME=URI}, taking {@code ${VAR}} from {@code environment} (null for an unset variable). */
    public static QueueConnection parse(String spec, UnaryOperator<String> environment) {
        if (spec == null || spec.indexOf('=') <= 0) {
            throw new IllegalArgumentException("a connection is NAME=URI, for example mq=amqp://127.0.0.1:5672");
        }
        String name = spec.substring(0, spec.indexOf('=')).trim();
        if (!isValidName(name)) {
            throw new IllegalArgumentException("connection name '" + name + "' must be 1-64 letters, digits, '-' "
                    + "or '_', starting with a letter or digit");
        }
        String text = substitute(name, spec.substring(spec.indexOf('=') + 1).trim(), environment);
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("connection '" + name + "': not a URI (" + e.getReason() + ")");
        }
        QueueType type = QueueType.ofScheme(uri.getScheme()).orElseThrow(() -> new IllegalArgumentException(
                "connection '" + name + "': the URI must start with one of " + QueueType.allSchemes()
                        + ", was '" + (uri.getScheme() == null ? "" : uri.getScheme()) + ":'"));
        if (uri.getRawAuthority() == null || uri.getRawAuthority().isBlank()) {
            throw new IllegalArgumentException("connection '" + name + "': the URI names no host, for example "
                    + uri.getScheme() + "://127.0.0.1");
        }
        return new QueueConnection(name, type, uri);
    }

    private static String substitute(String name, String text, UnaryOperator<String> environment) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = environment.apply(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException("connection '" + name + "': the environment variable "
                        + m.group(1) + " is not set");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The URI without its user information: what logs, errors and the API may show. */
    public String redacted() {
        String authority = uri.getRawAuthority();
        int at = authority.lastIndexOf('@');
        String host = at >= 0 ? authority.substring(at + 1) : authority;
        return uri.getScheme() + "://" + host + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    @Override
    public String toString() {
        return name + "=" + redacted();
    }

    /** The connections by name; a name given twice is refused. */
    public static Map<String, QueueConnection> byName(Iterable<QueueConnection> connections) {
        Map<String, QueueConnection> byName = new java.util.LinkedHashMap<>();
        for (QueueConnection c : connections) {
            if (byName.putIfAbsent(c.name(), c) != null) {
                throw new IllegalArgumentException("connection '" + c.name() + "' is given twice");
            }
        }
        return byName;
    }
}
