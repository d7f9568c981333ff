package dev.hourglass.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The configuration tables of the README and of docs/operations.md list every setting, each in one row with its
 * flag, its environment variable, its file key and its default, and name no option that does not exist.
 */
class ConfigurationDocsTest {
    private static final Pattern FLAG = Pattern.compile("`(--[a-z-]+)");

    @TestFactory
    List<DynamicTest> theReadmeAndTheOperationsGuideListEverySetting() throws IOException {
        String readme = section(Path.of("../README.md"));
        String operations = section(Path.of("../docs/operations.md"));
        return List.of(readme, operations).stream().flatMap(table -> Settings.ALL.stream().map(s ->
                DynamicTest.dynamicTest((table == readme ? "README " : "operations.md ") + s.name(), () -> {
                    List<String> rows = table.lines().filter(l -> l.startsWith("|"))
                            .filter(l -> l.contains("`" + s.env() + "`")).toList();
                    assertThat(rows).as("the row of " + s.env()).hasSize(1);
                    String row = rows.getFirst();
                    if (s.flag() != null) {
                        assertThat(row).contains("`" + s.flag() + "`");
                    }
                    if (s.key() != null) {
                        assertThat(row).contains("`" + s.key() + "`");
                    }
                    if (s.defaultValue() != null) {
                        assertThat(row).contains("`" + s.defaultValue() + "`");
                    }
                }))).toList();
    }

    @TestFactory
    List<DynamicTest> theTablesNameNoOptionThatDoesNotExist() throws IOException {
        return List.of(Path.of("../README.md"), Path.of("../docs/operations.md")).stream()
                .map(doc -> DynamicTest.dynamicTest(doc.toString(), () -> {
                    Matcher m = FLAG.matcher(section(doc));
                    while (m.find()) {
                        String flag = m.group(1);
                        assertThat(flag.equals("--print-config")
                                || Settings.ALL.stream().anyMatch(s -> flag.equals(s.flag())))
                                .as(flag + " in " + doc).isTrue();
                    }
                })).toList();
    }

    /** From "## Configuration" to the next "## " heading. */
    private static String section(Path doc) throws IOException {
        String text = Files.readString(doc);
        int start = text.indexOf("\n## Configuration\n");
        assertThat(start).as("a Configuration section in " + doc).isNotNegative();
        int end = text.indexOf("\n## ", start + 1);
        return end < 0 ? text.substring(start) : text.substring(start, end);
    }
}
