package dev.hourglass.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hourglass bench jmh}: the JMH microbenchmarks of the hot paths (package {@code dev.hourglass.bench.jmh}),
 * run with JMH's runner from this jar. JMH prints its progress and results table; then one RESULT line per
 * benchmark (and per secondary figure, such as jobs/s beside claims/s) in the format of the other scenarios.
 * A benchmark that throws fails the command, so the smoke run in CI catches a suite that no longer runs.
 */
@Command(name = "jmh", mixinStandardHelpOptions = true,
        description = "JMH microbenchmarks of the hot paths: timing wheel, group commit, claim batch, JSON, metrics.")
final class JmhCommand implements Callable<Integer> {
    static final String PACKAGE = "dev.hourglass.bench.jmh.";

    @Option(names = "--smoke", description = "One 200 ms warm-up and one 200 ms measured iteration per benchmark, "
            + "smallest @Param values only: proves the suite runs (CI), in well under a minute.")
    boolean smoke;

    @Option(names = "--forks", description = "Fresh JVMs per benchmark (default 1; 0 runs in this JVM: quicker, "
            + "but the benchmarks then share one JIT profile and heap).")
    Integer forks;

    @Option(names = "--list", description = "List the benchmarks and their parameters, and exit.")
    boolean list;

    @Parameters(paramLabel = "REGEXP", arity = "0..*",
            description = "Run only benchmarks whose name matches (JMH regexps, e.g. TimingWheel or 'Json.*encode').")
    List<String> patterns = new ArrayList<>();

    @Override
    public Integer call() throws RunnerException {
        List<String> includes = patterns.isEmpty() ? List.of("^" + PACKAGE.replace(".", "\\.")) : patterns;
        if (list) {
            return list(includes);
        }
        JmhProfile profile = (smoke ? JmhProfile.SMOKE : JmhProfile.FULL).withForks(forks);
        ChainedOptionsBuilder options = new OptionsBuilder()
                .shouldFailOnError(true)
                // SQLite's driver loads a native library; the jar's manifest allows that, a forked JVM needs it said.
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED")
                .verbosity(VerboseMode.NORMAL);
        includes.forEach(options::include);
        profile.applyTo(options, includes);
        System.out.printf("Hourglass bench jmh: %d cores, JDK %s, %s profile, benchmarks %s%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), profile.name(), includes);
        Collection<RunResult> results;
        try {
            results = new Runner(options.build()).run();
        } catch (NoBenchmarksException e) {
            System.err.println("hourglass bench jmh: no benchmark matches " + includes + " (see --list)");
            return 2;
        }
        Report report = new Report();
        for (RunResult run : results) {
            String scenario = "jmh." + run.getParams().getBenchmark().substring(PACKAGE.length());
            report.result(scenario, figures(run, run.getPrimaryResult()));
            run.getSecondaryResults().forEach((label, secondary) ->
                    report.result(scenario + ":" + label, figures(run, secondary)));
        }
        report.printSummary();
        return 0;
    }

    /** The benchmark's parameters, then its mode, score, error (99.9 %; NaN for one iteration) and unit. */
    private static Map<String, Object> figures(RunResult run, Result<?> result) {
        Map<String, Object> figures = new LinkedHashMap<>();
        for (String key : run.getParams().getParamsKeys()) {
            figures.put(key, run.getParams().getParam(key));
        }
        figures.put("mode", run.getParams().getMode().shortLabel());
        figures.put("score", result.getScore());
        figures.put("error", result.getScoreError());
        figures.put("unit", result.getScoreUnit());
        return figures;
    }

    private static int list(List<String> includes) {
        for (BenchmarkListEntry entry : BenchmarkList.defaultList()
                .find(OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT), includes, List.of())) {
            StringBuilder line = new StringBuilder(entry.getUsername().substring(PACKAGE.length()));
            entry.getParams().orElse(Map.of()).forEach((k, v) -> line.append(' ').append(k).append('=')
                    .append(String.join(",", v)));
            System.out.println(line);
        }
        return 0;
    }
}
