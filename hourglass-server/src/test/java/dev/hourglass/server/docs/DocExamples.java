package dev.hourglass.server.docs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hourglass.server.docs.MarkdownFences.Fence;
import dev.hourglass.server.docs.ShellLines.Command;
import dev.hourglass.server.docs.ShellLines.Comment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runnable examples of a Markdown document, in document order, and what each one answers, as the docs write
 * them:
 *
 * <ul>
 *   <li>Examples are {@code curl} commands and {@code bin/hourglass tenant} commands in {@code ```sh} (or
 *       {@code ```bash}) blocks. Variables the block sets ({@code export KEY=hgk_…}, {@code H=(...)}) stay set for
 *       the examples after it, as in the reader's shell.
 *   <li>Every {@code curl} says what it answers in a comment at the end of its last line or on the line after it:
 *       {@code # 201}, the status, then optionally the answer's JSON as an {@link AnswerPattern}
 *       ({@code # 201 {"id":"019ac1f2-…","state":"SCHEDULED",…}}); text after that is prose.
 *   <li>A {@code bin/hourglass tenant} command must succeed; a comment {@code # {...}} after it is the JSON it prints.
 *   <li>A {@code ```http} or {@code ```json} block right after a shell block (only blank lines between) is the
 *       answer of that block's last {@code curl}: status line, headers and body as patterns.
 *   <li>A shell block with other commands (starting a server, the test suite) is not an example here and is skipped;
 *       a block that mixes them with examples is a mistake.
 * </ul>
 */
final class DocExamples {
    private static final Set<String> SHELL = Set.of("sh", "bash");
    private static final Pattern ASSIGNMENT = Pattern.compile("(?s)(export\\s+)?([A-Za-z_][A-Za-z0-9_]*)=.*");
    private static final Pattern STATUS = Pattern.compile("(?s)(\\d{3})\\b[\\s,.:;-]*(.*)");

    private DocExamples() {}

    enum Kind { CURL, CLI }

    /** A variable the reader's shell holds from here on: {@code export KEY=hgk_…}. */
    record Assignment(int line, String name, String text) {}

    /**
     * What an example answers: an HTTP status (null for a command), header patterns and body patterns (from its
     * comment and from an answer block).
     */
    record Expected(Integer status, Map<String, String> headers, List<JsonNode> bodies) {}

    /** One example: its command as written, the variables set before it, and what it answers. */
    record Example(String document, int line, Kind kind, String command, List<Assignment> shell,
            Expected expected) {
        String name() {
            String first = command.lines().findFirst().orElse("").strip();
            return document + ":" + line + " " + (first.length() > 90 ? first.substring(0, 87) + "..." : first);
        }
    }

    /** A document that breaks the conventions above; the message names the line. */
    static final class DocError extends RuntimeException {
        DocError(String document, int line, String message) {
            super(document + ":" + line + ": " + message);
        }
    }

    static List<Example> of(String document, List<String> lines) {
        List<Example> examples = new ArrayList<>();
        List<Assignment> shell = new ArrayList<>();
        List<Fence> fences = MarkdownFences.of(lines);
        for (int f = 0; f < fences.size(); f++) {
            Fence fence = fences.get(f);
            if (!SHELL.contains(fence.language())) {
                fence.lines().stream().filter(l -> l.strip().startsWith("curl ")).findFirst().ifPresent(l -> {
                    throw new DocError(document, fence.firstLine(), "a curl example in a ```" + fence.language()
                            + " block; examples go in ```sh blocks");
                });
                continue;
            }
            Fence answer = f + 1 < fences.size() && fences.get(f + 1).adjacent()
                    && Set.of("http", "json").contains(fences.get(f + 1).language()) ? fences.get(f + 1) : null;
            examples.addAll(block(document, fence, answer, shell));
        }
        return examples;
    }

    private static List<Example> block(String document, Fence fence, Fence answer, List<Assignment> shell) {
        List<ShellLines.Item> items;
        try {
            items = ShellLines.of(fence.lines(), fence.firstLine());
        } catch (IllegalArgumentException e) {
            throw new DocError(document, fence.firstLine(), e.getMessage());
        }
        List<Command> others = items.stream().filter(i -> i instanceof Command c && kind(c) == null
                && !ASSIGNMENT.matcher(c.text()).matches()).map(Command.class::cast).toList();
        boolean hasExamples = items.stream().anyMatch(i -> i instanceof Command c && kind(c) != null);
        if (!others.isEmpty()) {
            if (hasExamples) {
                throw new DocError(document, others.getFirst().line(), "'" + others.getFirst().text()
                        + "' in a block of examples: the test cannot run it (put it in a block of its own)");
            }
            return List.of();
        }
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (!(items.get(i) instanceof Command command)) {
                continue;
            }
            Kind kind = kind(command);
            if (kind == null) {
                Matcher m = ASSIGNMENT.matcher(command.text());
                m.matches();
                shell.add(new Assignment(command.line(), m.group(2), command.text()));
                continue;
            }
            String said = said(kind, command.trailingComment());
            if (said == null && i + 1 < items.size() && items.get(i + 1) instanceof Comment next) {
                said = said(kind, next.text());
            }
            if (said == null && kind == Kind.CURL) {
                throw new DocError(document, command.line(), "a curl example without its answer: add '# <status>' "
                        + "(and the answer's fields) at the end of its last line or on the line after it");
            }
            examples.add(new Example(document, command.line(), kind, command.text(), List.copyOf(shell),
                    expected(document, command.line(), kind, said)));
        }
        if (answer != null) {
            Example last = examples.isEmpty() ? null : examples.getLast();
            if (last == null || last.kind() != Kind.CURL) {
                throw new DocError(document, answer.firstLine(), "an answer block after a block whose last "
                        + "example is not a curl");
            }
            examples.set(examples.size() - 1, withAnswer(last, answer));
        }
        return examples;
    }

    private static Kind kind(Command command) {
        if (command.text().startsWith("curl ")) {
            return Kind.CURL;
        }
        if (command.text().startsWith("bin/hourglass tenant ")) {
            return Kind.CLI;
        }
        return null;
    }

    /** The comment if it says what the example answers, else null. */
    private static String said(Kind kind, String comment) {
        if (comment == null) {
            return null;
        }
        boolean says = kind == Kind.CURL ? STATUS.matcher(comment).matches()
                : comment.startsWith("{") || comment.startsWith("[");
        return says ? comment : null;
    }

    private static Expected expected(String document, int line, Kind kind, String said) {
        if (said == null) {
            return new Expected(null, Map.of(), List.of());
        }
        Integer status = null;
        String rest = said;
        if (kind == Kind.CURL) {
            Matcher m = STATUS.matcher(said);
            m.matches();
            status = Integer.valueOf(m.group(1));
            rest = m.group(2);
        }
        List<JsonNode> bodies = new ArrayList<>();
        if (rest.startsWith("{") || rest.startsWith("[")) {
            bodies.add(pattern(document, line, leadingJson(rest)));
        }
        return new Expected(status, Map.of(), bodies);
    }

    /** An {@code ```http} answer (status line, headers, body) or a {@code ```json} one (body). */
    private static Example withAnswer(Example example, Fence answer) {
        List<String> lines = answer.lines();
        Map<String, String> headers = new LinkedHashMap<>();
        int body = 0;
        if (answer.language().equals("http")) {
            String[] statusLine = lines.getFirst().split(" ");
            int status = Integer.parseInt(statusLine[1]);
            if (!Integer.valueOf(status).equals(example.expected().status())) {
                throw new DocError(example.document(), answer.firstLine(), "the answer block says " + status
                        + ", the example's comment " + example.expected().status());
            }
            for (body = 1; body < lines.size() && !lines.get(body).isBlank(); body++) {
                String[] header = lines.get(body).split(":", 2);
                headers.put(header[0].strip().toLowerCase(Locale.ROOT), header[1].strip());
            }
        }
        String text = String.join("\n", lines.subList(body, lines.size())).strip();
        List<JsonNode> bodies = new ArrayList<>(example.expected().bodies());
        if (!text.isEmpty()) {
            bodies.add(pattern(example.document(), answer.firstLine(), text));
        }
        Expected expected = new Expected(example.expected().status(), headers, bodies);
        return new Example(example.document(), example.line(), example.kind(), example.command(), example.shell(),
                expected);
    }

    private static JsonNode pattern(String document, int line, String text) {
        try {
            return AnswerPattern.parse(text);
        } catch (IllegalArgumentException e) {
            throw new DocError(document, line, e.getMessage());
        }
    }

    /** The JSON object or array at the start of {@code text}; what follows it is prose. */
    private static String leadingJson(String text) {
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return text.substring(0, i + 1);
            }
        }
        return text;
    }
}
