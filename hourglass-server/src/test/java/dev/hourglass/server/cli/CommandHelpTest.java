package dev.hourglass.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;

/**
 * Every command and subcommand, found by walking the command tree (so a new one is covered without touching this
 * test), answers {@code --help} and {@code -h} with its usage on stdout and exit code 0, whatever it would otherwise
 * require (a positional NAME, the admin key, a running server).
 */
class CommandHelpTest {

    private record Run(int code, String out, String err) {}

    private static Run run(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    /** The command paths of the tree under {@code command}: [], [server], [tenant], [tenant, create], ... */
    private static void collect(CommandLine command, List<String> path, List<List<String>> into) {
        into.add(path);
        command.getSubcommands().forEach((name, sub) -> {
            if (name.equals(sub.getCommandName())) { // aliases lead to the same command
                List<String> subPath = new ArrayList<>(path);
                subPath.add(name);
                collect(sub, List.copyOf(subPath), into);
            }
        });
    }

    private static CommandLine commandAt(List<String> path) {
        CommandLine command = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        for (String name : path) {
            command = command.getSubcommands().get(name);
        }
        return command;
    }

    @TestFactory
    Stream<DynamicTest> everyCommandPrintsItsUsageOnHelpAndExits0() {
        List<List<String>> paths = new ArrayList<>();
        collect(commandAt(List.of()), List.of(), paths);
        assertThat(paths).as("the walk found the tree").contains(List.of("server"), List.of("tenant", "create"),
                List.of("tenant", "list"), List.of("tenant", "revoke-key"), List.of("webhook-secret"));
        return paths.stream().flatMap(path -> Stream.of("--help", "-h").map(flag -> {
            String name = String.join(" ", Stream.concat(Stream.of("hourglass"), path.stream()).toList());
            return dynamicTest(name + " " + flag, () -> {
                List<String> args = new ArrayList<>(path);
                args.add(flag);
                Run r = run(args);
                assertThat(r.code()).as(r.err()).isZero();
                assertThat(r.err()).isEmpty();
                assertThat(r.out()).contains("Usage: " + name + " ")
                        .isEqualTo(commandAt(path).getUsageMessage(CommandLine.Help.Ansi.OFF));
            });
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyCommandWithVersionOptionPrintsTheVersion() {
        List<List<String>> paths = new ArrayList<>();
        collect(commandAt(List.of()), List.of(), paths);
        return paths.stream().filter(path -> commandAt(path).getCommandSpec().findOption("--version") != null)
                .map(path -> dynamicTest(String.join(" ", path) + " --version", () -> {
                    List<String> args = new ArrayList<>(path);
                    args.add("--version");
                    Run r = run(args);
                    assertThat(r.code()).isZero();
                    assertThat(r.out()).startsWith("hourglass 0.1.0");
                }));
    }
}
