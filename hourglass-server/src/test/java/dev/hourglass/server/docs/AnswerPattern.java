package dev.hourglass.server.docs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.http.JobJson;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the docs show of an answer, as a pattern an actual answer must match. The rules, which the docs follow:
 *
 * <ul>
 *   <li>An object lists fields the answer has, with their values. A {@code …} in it ({@code {"id":"…",…}}) allows
 *       fields not shown; without one the answer has exactly the fields shown.
 *   <li>A bare {@code …} as a value matches anything, {@code null} included; {@code "…"} any value but {@code null}.
 *   <li>A string with {@code …} and more in it ({@code "019ac1f2-…"}, {@code "key_…"}) matches any value but
 *       {@code null} and is a <em>placeholder</em>: the value it matched stands for that text in the examples that
 *       follow (they use the id the answer gave). An id written out in full is a placeholder too.
 *   <li>Ids and times are examples: in any string, an id matches any id and a time any time of the same shape
 *       ({@code 2026-11-26T17:00:00.000Z} matches any time with three fraction digits, in UTC).
 *   <li>Anything else matches as written; numbers digit for digit ({@code 19.90} is not {@code 19.9}).
 *   <li>An array ending in {@code …} matches an array that starts with the elements shown.
 * </ul>
 *
 * A placeholder keeps its value for the rest of the document: met again in an answer, it must match the same value
 * (so {@code "id":"0193…"} twice says "the same job").
 */
final class AnswerPattern {
    static final String ELLIPSIS = "…";
    /** What a bare {@code …} value reads as: a string no doc writes. */
    private static final String ANYTHING = "\u0000…";
    /** Numbers are read as the server writes them, digit for digit. */
    static final ObjectMapper JSON = JobJson.newMapper();

    private static final Pattern ID =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern TIME =
            Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");
    private static final Pattern ID_OR_TIME = Pattern.compile(ID.pattern() + "|" + TIME.pattern());

    private AnswerPattern() {}

    /** Reads a pattern: JSON in which {@code …} may stand where a field or a value would. */
    static JsonNode parse(String text) {
        try {
            return JSON.readTree(quoteEllipses(text));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a JSON pattern: " + text + " (" + e.getOriginalMessage() + ")", e);
        }
    }

    /**
     * Turns a bare {@code …} into JSON: {@link #ANYTHING} as a value, {@code "…1":"…"} where a field would be
     * (numbered, since an object may have several).
     */
    private static String quoteEllipses(String text) {
        StringBuilder out = new StringBuilder();
        Deque<Character> open = new ArrayDeque<>();
        boolean inString = false;
        boolean fieldExpected = false;
        int fieldsNotShown = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                out.append(c);
                if (c == '\\' && i + 1 < text.length()) {
                    out.append(text.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            switch (c) {
                case '"' -> inString = true;
                case '{' -> {
                    open.push('{');
                    fieldExpected = true;
                }
                case '[' -> open.push('[');
                case '}', ']' -> open.poll();
                case ',' -> fieldExpected = open.peek() != null && open.peek() == '{';
                case ':' -> fieldExpected = false;
                default -> {
                    // nothing to track
                }
            }
            if (c == '…') {
                out.append(fieldExpected ? "\"…" + ++fieldsNotShown + "\":\"…\"" : "\"\\u0000…\"");
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Matches {@code actual} against {@code pattern}; returns what differs (empty when it matches). Placeholders
     * met for the first time are added to {@code placeholders}.
     */
    static List<String> match(JsonNode pattern, JsonNode actual, Map<String, String> placeholders) {
        List<String> differences = new ArrayList<>();
        match(pattern, actual, "$", placeholders, differences);
        return differences;
    }

    private static void match(JsonNode pattern, JsonNode actual, String path, Map<String, String> placeholders,
            List<String> differences) {
        if (actual == null || actual.isMissingNode()) {
            differences.add(path + ": missing, expected " + pattern);
            return;
        }
        if (pattern.isTextual() && pattern.textValue().equals(ANYTHING)) {
            return;
        }
        if (pattern.isTextual() && pattern.textValue().equals(ELLIPSIS)) {
            if (actual.isNull()) {
                differences.add(path + ": expected a value, was null");
            }
        } else if (pattern.isTextual() && isPlaceholder(pattern.textValue())) {
            if (!actual.isValueNode() || actual.isNull()) {
                differences.add(path + ": expected a value for " + pattern + ", was " + actual);
            } else if (pattern.textValue().contains(ELLIPSIS) || ID.matcher(actual.asText()).matches()) {
                bind(pattern.textValue(), actual.asText(), path, placeholders, differences);
            } else {
                differences.add(path + ": expected an id like " + pattern + ", was " + actual);
            }
        } else if (pattern.isTextual()) {
            if (!actual.isTextual() || !shape(pattern.textValue()).matcher(actual.textValue()).matches()) {
                differences.add(path + ": expected " + pattern + ", was " + actual);
            }
        } else if (pattern.isObject()) {
            matchObject(pattern, actual, path, placeholders, differences);
        } else if (pattern.isArray()) {
            matchArray(pattern, actual, path, placeholders, differences);
        } else if (pattern.isNumber() ? !actual.isNumber() || !pattern.toString().equals(actual.toString())
                : !pattern.equals(actual)) {
            differences.add(path + ": expected " + pattern + ", was " + actual);
        }
    }

    private static void matchObject(JsonNode pattern, JsonNode actual, String path, Map<String, String> placeholders,
            List<String> differences) {
        if (!actual.isObject()) {
            differences.add(path + ": expected an object, was " + actual);
            return;
        }
        boolean open = false;
        for (Iterator<String> names = pattern.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (name.startsWith(ELLIPSIS)) {
                open = true;
            } else {
                match(pattern.get(name), actual.get(name), path + "." + name, placeholders, differences);
            }
        }
        if (!open) {
            for (Iterator<String> names = actual.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!pattern.has(name)) {
                    differences.add(path + "." + name + ": not shown in the docs, was " + actual.get(name)
                            + " (show it, or write … for fields not shown)");
                }
            }
        }
    }

    private static void matchArray(JsonNode pattern, JsonNode actual, String path, Map<String, String> placeholders,
            List<String> differences) {
        if (!actual.isArray()) {
            differences.add(path + ": expected an array, was " + actual);
            return;
        }
        int shown = pattern.size();
        boolean more = shown > 0 && pattern.get(shown - 1).isTextual()
                && pattern.get(shown - 1).textValue().equals(ANYTHING);
        int needed = more ? shown - 1 : shown;
        if (more ? actual.size() < needed : actual.size() != needed) {
            differences.add(path + ": expected " + (more ? "at least " : "") + needed + " elements, was " + actual);
            return;
        }
        for (int i = 0; i < needed; i++) {
            match(pattern.get(i), actual.get(i), path + "[" + i + "]", placeholders, differences);
        }
    }

    private static void bind(String placeholder, String value, String path, Map<String, String> placeholders,
            List<String> differences) {
        String earlier = placeholders.putIfAbsent(placeholder, value);
        if (earlier != null && !earlier.equals(value)) {
            differences.add(path + ": " + placeholder + " stood for " + earlier + " earlier in the document, "
                    + "was " + value);
        }
    }

    /** A string that stands for a value the server chooses: it has a {@code …}, or it is an id. */
    static boolean isPlaceholder(String text) {
        return text.contains(ELLIPSIS) || ID.matcher(text).matches();
    }

    /**
     * The strings that {@code expected} stands for: ids and times by their shape, {@code …} as anything, the rest
     * as written.
     */
    static Pattern shape(String expected) {
        StringBuilder regex = new StringBuilder();
        String[] parts = expected.split(ELLIPSIS, -1);
        for (int p = 0; p < parts.length; p++) {
            if (p > 0) {
                regex.append(".*");
            }
            Matcher m = ID_OR_TIME.matcher(parts[p]);
            int at = 0;
            while (m.find()) {
                regex.append(Pattern.quote(parts[p].substring(at, m.start())));
                regex.append(shapeOf(m.group()));
                at = m.end();
            }
            regex.append(Pattern.quote(parts[p].substring(at)));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    /** An id or a time as a regex of its shape: each digit any digit (any hex digit in an id). */
    private static String shapeOf(String example) {
        boolean id = ID.matcher(example).matches();
        StringBuilder regex = new StringBuilder();
        for (char c : example.toCharArray()) {
            if (id && Character.digit(c, 16) >= 0) {
                regex.append("[0-9a-f]");
            } else if (!id && Character.isDigit(c)) {
                regex.append("[0-9]");
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return regex.toString();
    }
}
