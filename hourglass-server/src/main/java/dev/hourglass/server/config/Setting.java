package dev.hourglass.server.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One setting of {@code hourglass server}: the three names it can be given by, its default, and what it means. The
 * names follow one rule: the file key is the option's name without {@code --}, the environment variable is
 * {@code HOURGLASS_} and the key in upper case with {@code _} for {@code -} ({@code --lease-ttl}, {@code lease-ttl},
 * {@code HOURGLASS_LEASE_TTL}). Secrets have no flag (a flag shows in the process list) and are never printed.
 *
 * @param key the key in the configuration file; null for the one setting the file cannot hold (where the file is)
 * @param flag the command-line option, or null for a setting taken only from the environment or the file
 * @param env the environment variable
 * @param paramLabel what the value is, for the help ({@code DURATION}, {@code N}, {@code URL})
 * @param defaultValue the text used when no source gives one, parsed like any other; null when there is none
 * @param defaultDescription what happens without a value, when that is not a value ({@code HOSTNAME-pid}); else null
 * @param description what it does, one or two sentences
 * @param secret whether the value must never be shown (help, errors, {@code --print-config})
 */
public record Setting(String key, String flag, String env, String paramLabel, String defaultValue,
        String defaultDescription, String description, boolean secret) {

    public Setting {
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(paramLabel, "paramLabel");
        Objects.requireNonNull(description, "description");
        if (key == null && flag == null) {
            throw new IllegalArgumentException(env + " needs a flag or a file key");
        }
    }

    /** A setting named by the rule, with a flag, a file key and a default value ({@code null}: none). */
    static Setting of(String key, String paramLabel, String defaultValue, String description) {
        return new Setting(key, "--" + key, envOf(key), paramLabel, defaultValue, null, description, false);
    }

    /** A secret: from the environment or the file only, never shown. */
    static Setting secretOf(String key, String paramLabel, String description) {
        return new Setting(key, null, envOf(key), paramLabel, null, null, description, true);
    }

    /** The environment variable the rule gives {@code key}. */
    static String envOf(String key) {
        return "HOURGLASS_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    Setting withEnv(String value) {
        return new Setting(key, flag, value, paramLabel, defaultValue, defaultDescription, description, secret);
    }

    Setting withoutKey() {
        return new Setting(null, flag, env, paramLabel, defaultValue, defaultDescription, description, secret);
    }

    Setting asSecret() {
        return new Setting(key, flag, env, paramLabel, defaultValue, defaultDescription, description, true);
    }

    /** What happens without a value, for when {@link #defaultValue} is null. */
    Setting defaultDescribed(String value) {
        return new Setting(key, flag, env, paramLabel, defaultValue, value, description, secret);
    }

    /** The name people know it by: the key, or for the file's own location the option. */
    public String name() {
        return key != null ? key : flag.substring(2);
    }

    /** The default as help and docs show it: the value, what happens instead, or "none". */
    public String shownDefault() {
        return defaultValue != null ? defaultValue : defaultDescription != null ? defaultDescription : "none";
    }
}
