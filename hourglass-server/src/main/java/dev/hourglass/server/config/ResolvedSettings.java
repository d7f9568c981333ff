package dev.hourglass.server.config;

import dev.hourglass.server.StartupException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The value of every setting and where it came from. Precedence: a flag wins over the environment, the environment
 * over the configuration file, the file over the default. A blank value counts as not given, wherever it is.
 *
 * <p>Every value is text until it is read through one of the typed getters, which check it and, when it breaks its
 * rule, throw a {@link StartupException} that names the setting as it was given ({@code --lease-ttl},
 * {@code HOURGLASS_LEASE_TTL}, or {@code lease-ttl in FILE}), the rule, and the value unless it is a secret.
 */
public final class ResolvedSettings {

    /** Where a value came from. */
    public enum Source { FLAG, ENV, FILE, DEFAULT, NONE }

    /** A setting's value ({@code null} when {@link Source#NONE}) and its source. */
    public record Value(Setting setting, String text, Source source) {}

    private final Map<Setting, Value> values;
    private final ConfigFile file;

    private ResolvedSettings(Map<Setting, Value> values, ConfigFile file) {
        this.values = values;
        this.file = file;
    }

    /**
     * Resolves every setting of {@link Settings#ALL}. The configuration file is the one named by {@code --config} or
     * {@code HOURGLASS_CONFIG}, if any.
     *
     * @param flags the values given on the command line, by setting (absent: not given)
     * @param env the environment
     * @throws StartupException when the configuration file cannot be read or holds an unknown key
     */
    public static ResolvedSettings resolve(Map<Setting, String> flags, Map<String, String> env) {
        ConfigFile file = null;
        Value config = pick(Settings.CONFIG, flags, env, null);
        if (config.source() != Source.NONE) {
            try {
                file = ConfigFile.load(Path.of(config.text()));
            } catch (InvalidPathException e) {
                throw new StartupException(label(config, null) + " is not a usable path: " + e.getReason());
            }
        }
        Map<Setting, Value> values = new LinkedHashMap<>();
        for (Setting s : Settings.ALL) {
            values.put(s, pick(s, flags, env, file));
        }
        return new ResolvedSettings(values, file);
    }

    private static Value pick(Setting s, Map<Setting, String> flags, Map<String, String> env, ConfigFile file) {
        String flag = given(flags.get(s));
        if (flag != null) {
            return new Value(s, flag, Source.FLAG);
        }
        String fromEnv = given(env.get(s.env()));
        if (fromEnv != null) {
            return new Value(s, fromEnv, Source.ENV);
        }
        String fromFile = file == null || s.key() == null ? null : file.get(s.key());
        if (fromFile != null) {
            return new Value(s, fromFile, Source.FILE);
        }
        return s.defaultValue() != null ? new Value(s, s.defaultValue(), Source.DEFAULT) : new Value(s, null, Source.NONE);
    }

    private static String given(String text) {
        return text == null || text.isBlank() ? null : text.strip();
    }

    /** The configuration file read, or null when none was named. */
    public ConfigFile file() {
        return file;
    }

    public Value value(Setting s) {
        return values.get(s);
    }

    /** Every value, in the order of {@link Settings#ALL}. */
    public Iterable<Value> all() {
        return values.values();
    }

    /** The setting's text, or null when no source gives one and it has no default. */
    public String text(Setting s) {
        return values.get(s).text();
    }

    /** Where the value of {@code s} came from, as people wrote it: {@code --port}, {@code HOURGLASS_PORT}, ... */
    public String label(Setting s) {
        return label(values.get(s), file);
    }

    private static String label(Value v, ConfigFile file) {
        Setting s = v.setting();
        return switch (v.source()) {
            case FLAG -> s.flag();
            case ENV -> s.env();
            case FILE -> s.key() + " in " + file.path();
            case DEFAULT, NONE -> s.flag() != null ? s.flag() : s.env();
        };
    }

    /** An integer in [min, max]. */
    public int integer(Setting s, int min, int max) {
        String text = text(s);
        String rule = "an integer from " + min + " to " + max;
        try {
            int value = Integer.parseInt(text);
            if (value < min || value > max) {
                throw invalid(s, rule);
            }
            return value;
        } catch (NumberFormatException e) {
            throw invalid(s, rule);
        }
    }

    /**
     * A duration ({@link DurationText}) that is positive, or non-negative when {@code zeroAllowed}, and at most
     * {@code max} (null: no bound).
     */
    public Duration duration(Setting s, boolean zeroAllowed, Duration max) {
        Duration d;
        try {
            d = DurationText.parse(text(s));
        } catch (IllegalArgumentException e) {
            throw invalid(s, e.getMessage());
        }
        if (d.isNegative() || (d.isZero() && !zeroAllowed) || (max != null && d.compareTo(max) > 0)) {
            throw invalid(s, (zeroAllowed ? "a duration >= 0" : "a duration > 0")
                    + (max != null ? " and at most " + DurationText.format(max) : ""));
        }
        return d;
    }

    /** A switch: {@code true} or {@code false} ({@code on} and {@code off} are taken too), in any case. */
    public boolean bool(Setting s) {
        return switch (text(s).trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "on" -> true;
            case "false", "off" -> false;
            default -> throw invalid(s, "true or false");
        };
    }

    /** A path. */
    public Path path(Setting s) {
        try {
            return Path.of(text(s));
        } catch (InvalidPathException e) {
            throw invalid(s, "a path (" + e.getReason() + ")");
        }
    }

    /** "LABEL must be RULE, was 'VALUE'"; a secret's value is left out. */
    public StartupException invalid(Setting s, String rule) {
        String text = text(s);
        return new StartupException(label(s) + " must be " + rule
                + (s.secret() || text == null ? "" : ", was '" + printable(text) + "'"));
    }

    /** "LABEL: PROBLEM", for a problem the library found in the value. */
    public StartupException problem(Setting s, String problem) {
        return new StartupException(label(s) + ": " + problem);
    }

    private static String printable(String text) {
        String clean = text.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= 100 ? clean : clean.substring(0, 97) + "...";
    }
}
