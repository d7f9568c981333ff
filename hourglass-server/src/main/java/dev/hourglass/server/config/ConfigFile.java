package dev.hourglass.server.config;

import dev.hourglass.server.StartupException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The configuration file ({@code --config FILE} / {@code HOURGLASS_CONFIG}): a Java {@code .properties} file, read as
 * UTF-8, whose keys are the settings' option names without {@code --} ({@code lease-ttl=10s}).
 *
 * <p>Why {@code .properties}: every setting is one flat name with one string value, the same string a flag or an
 * environment variable carries, so the file needs no nesting and no types, and one parser checks a value wherever it
 * comes from. Java operators know the format, and the JDK reads it: no dependency. (YAML would guess types, so that
 * {@code node-id: no} became a boolean, and would nest what is flat.)
 *
 * <p>What the format lets slip is refused here: an unknown key (a typo would otherwise be ignored, and the setting
 * silently keep its default) and a key given twice (the format keeps the last one silently).
 *
 * @param path where it was read from
 * @param values the values by key, in no particular order; a blank value counts as not given
 */
public record ConfigFile(Path path, Map<String, String> values) {

    public ConfigFile {
        values = Map.copyOf(values);
    }

    /**
     * Reads and checks a configuration file.
     *
     * @throws StartupException naming the file and the problem: unreadable, an unknown key (with the nearest known
     *     one), a key given twice
     */
    public static ConfigFile load(Path path) {
        StrictProperties properties = new StrictProperties(path);
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            throw new StartupException("config file " + path + " does not exist");
        } catch (AccessDeniedException e) {
            throw new StartupException("config file " + path + " is not readable: permission denied");
        } catch (CharacterCodingException e) {
            throw new StartupException("config file " + path + " is not UTF-8 text");
        } catch (IOException e) {
            throw new StartupException("cannot read config file " + path + ": " + e.getMessage());
        } catch (IllegalArgumentException e) { // a malformed \\uXXXX escape
            throw new StartupException("config file " + path + ": " + e.getMessage());
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (!Settings.BY_KEY.containsKey(key)) {
                throw new StartupException("config file " + path + ": unknown key '" + printable(key) + "'"
                        + suggestion(key));
            }
            values.put(key, properties.getProperty(key));
        }
        return new ConfigFile(path, values);
    }

    /** The value of {@code key}, or null when the file does not give one (a blank value gives none). */
    public String get(String key) {
        String value = values.get(key);
        return value == null || value.isBlank() ? null : value.strip();
    }

    /**
     * Whether others than the owner may read the file while it holds a secret (a key, a password): worth a warning,
     * since the environment is the safer place for those. False where the file system has no POSIX permissions.
     */
    public boolean secretsReadableByOthers() {
        boolean holdsSecret = values.keySet().stream().map(Settings.BY_KEY::get).anyMatch(Setting::secret);
        if (!holdsSecret) {
            return false;
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
            return permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** " (did you mean 'lease-ttl'?)" for the known key nearest to a typo, or for a flag or variable name. */
    private static String suggestion(String key) {
        for (Setting s : Settings.BY_KEY.values()) {
            if (key.equals(s.flag()) || key.equals(s.env())) {
                return " (did you mean '" + s.key() + "'?)";
            }
        }
        return Settings.BY_KEY.keySet().stream()
                .filter(known -> editDistance(key, known) <= Math.max(2, known.length() / 4))
                .min(Comparator.comparingInt((String known) -> editDistance(key, known)).thenComparing(k -> k))
                .map(known -> " (did you mean '" + known + "'?)")
                .orElse("; the keys are the options of 'hourglass server --help' without '--'");
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static String printable(String text) {
        String clean = text.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= 64 ? clean : clean.substring(0, 61) + "...";
    }

    /** {@link Properties} that refuses a key given twice instead of keeping the last. */
    private static final class StrictProperties extends Properties {
        private final transient Path path;

        StrictProperties(Path path) {
            this.path = path;
        }

        @Override
        public synchronized Object put(Object key, Object value) {
            if (containsKey(key)) {
                throw new StartupException("config file " + path + ": key '" + printable(key.toString())
                        + "' is given twice");
            }
            return super.put(key, value);
        }
    }
}
