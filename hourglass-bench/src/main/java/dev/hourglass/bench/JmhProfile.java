package dev.hourglass.bench;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * How long {@code bench jmh} measures. The full profile is short for JMH (its own defaults take hours for this
 * suite) yet gives an error bar: 2 warm-up and 3 measured iterations of 1 s in one fresh JVM per benchmark, a few
 * minutes in all. The smoke profile only proves that every benchmark still runs: one 200 ms warm-up and one 200 ms
 * measured iteration, each {@code @Param} at its smallest value.
 */
record JmhProfile(String name, int warmups, TimeValue warmupTime, int iterations, TimeValue iterationTime,
        int forks, boolean smallestParams) {

    static final JmhProfile FULL = new JmhProfile("full", 2, TimeValue.seconds(1), 3, TimeValue.seconds(1), 1, false);
    static final JmhProfile SMOKE =
            new JmhProfile("smoke", 1, TimeValue.milliseconds(200), 1, TimeValue.milliseconds(200), 1, true);

    JmhProfile withForks(Integer value) {
        return value == null ? this
                : new JmhProfile(name, warmups, warmupTime, iterations, iterationTime, value, smallestParams);
    }

    /** Sets the iteration counts and times, the forks and (smoke) the parameters on {@code options}. */
    ChainedOptionsBuilder applyTo(ChainedOptionsBuilder options, List<String> includes) {
        options.warmupIterations(warmups).warmupTime(warmupTime)
                .measurementIterations(iterations).measurementTime(iterationTime)
                .forks(forks);
        if (smallestParams) {
            smallestParams(includes).forEach(options::param);
        }
        return options;
    }

    /**
     * Each parameter of the selected benchmarks at its smallest value (numerically, when every value is a number;
     * else the first declared), read from the generated benchmark list, so a new {@code @Param} needs no change here.
     */
    static Map<String, String> smallestParams(List<String> includes) {
        Collection<BenchmarkListEntry> entries = BenchmarkList.defaultList()
                .find(OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT), includes, List.of());
        Map<String, String> smallest = new TreeMap<>();
        for (BenchmarkListEntry entry : entries) {
            Map<String, String[]> params = entry.getParams().orElse(Map.of());
            params.forEach((name, values) -> {
                String candidate = smallestOf(values);
                smallest.merge(name, candidate, JmhProfile::smaller);
            });
        }
        return smallest;
    }

    private static String smallestOf(String[] values) {
        String best = values[0];
        for (String v : values) {
            best = smaller(best, v);
        }
        return best;
    }

    private static String smaller(String a, String b) {
        try {
            return Double.parseDouble(b) < Double.parseDouble(a) ? b : a;
        } catch (NumberFormatException e) {
            return a;
        }
    }
}
