package dev.hourglass.server.docs;

import java.util.ArrayList;
import java.util.List;

/** The fenced code blocks of a Markdown document, in order, with their line numbers. */
final class MarkdownFences {
    private MarkdownFences() {}

    /**
     * One fenced block. {@code firstLine} is the 1-based line of its first content line; {@code adjacent} says that
     * only blank lines separate it from the block before it (then it shows that block's answer).
     */
    record Fence(String language, int firstLine, List<String> lines, boolean adjacent) {}

    static List<Fence> of(List<String> document) {
        List<Fence> fences = new ArrayList<>();
        int lastClose = -2;
        for (int i = 0; i < document.size(); i++) {
            String open = document.get(i).strip();
            if (!open.startsWith("```")) {
                continue;
            }
            String language = open.substring(3).strip();
            int start = i + 1;
            int end = start;
            while (end < document.size() && !document.get(end).strip().equals("```")) {
                end++;
            }
            boolean adjacent = lastClose >= 0 && document.subList(lastClose + 1, i).stream().allMatch(String::isBlank);
            fences.add(new Fence(language, start + 1, List.copyOf(document.subList(start, end)), adjacent));
            lastClose = end;
            i = end;
        }
        return fences;
    }
}
