package dev.hourglass.server.docs;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a shell block into what a shell would see: commands (which may run over several lines, through a trailing
 * backslash or an open quote) and comment lines. A command's trailing comment ({@code curl ... # 201}) is kept
 * apart, since the docs write what an example answers there.
 */
final class ShellLines {
    private ShellLines() {}

    /** A comment on its own line, without the leading {@code #}. */
    record Comment(int line, String text) implements Item {}

    /** A command as written (all its lines), and its trailing comment without the {@code #} (null if none). */
    record Command(int line, String text, String trailingComment) implements Item {}

    sealed interface Item permits Comment, Command {
        int line();
    }

    /** {@code firstLine} is the document line of {@code lines.get(0)}. */
    static List<Item> of(List<String> lines, int firstLine) {
        List<Item> items = new ArrayList<>();
        StringBuilder command = null;
        int commandLine = 0;
        Quote quote = Quote.NONE;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (command == null) {
                if (line.isBlank()) {
                    continue;
                }
                if (line.strip().startsWith("#")) {
                    items.add(new Comment(firstLine + i, line.strip().substring(1).strip()));
                    continue;
                }
                command = new StringBuilder();
                commandLine = firstLine + i;
            }
            Scan scan = scan(line, quote);
            quote = scan.quote();
            command.append(scan.code());
            if (quote != Quote.NONE || scan.continues()) {
                command.append('\n');
                continue;
            }
            items.add(new Command(commandLine, command.toString().strip(), scan.comment()));
            command = null;
        }
        if (command != null) {
            throw new IllegalArgumentException("line " + commandLine + ": the command never ends (an open quote "
                    + "or a backslash at the end of the block)");
        }
        return items;
    }

    private enum Quote { NONE, SINGLE, DOUBLE }

    /** One line: its code, its trailing comment (null if none), the quote open at its end, a line continuation. */
    private record Scan(String code, String comment, Quote quote, boolean continues) {}

    private static Scan scan(String line, Quote quote) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            switch (quote) {
                case SINGLE -> {
                    if (c == '\'') {
                        quote = Quote.NONE;
                    }
                }
                case DOUBLE -> {
                    if (c == '\\') {
                        i++;
                    } else if (c == '"') {
                        quote = Quote.NONE;
                    }
                }
                case NONE -> {
                    if (c == '\\') {
                        if (i == line.length() - 1) {
                            return new Scan(line, null, quote, true);
                        }
                        i++;
                    } else if (c == '\'') {
                        quote = Quote.SINGLE;
                    } else if (c == '"') {
                        quote = Quote.DOUBLE;
                    } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                        return new Scan(line.substring(0, i).stripTrailing(), line.substring(i + 1).strip(), quote,
                                false);
                    }
                }
            }
        }
        return new Scan(line, null, quote, false);
    }
}
