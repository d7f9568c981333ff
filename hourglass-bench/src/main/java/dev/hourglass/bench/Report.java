package dev.hourglass.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Collects one machine-readable line per scenario and prints them together at the end. */
final class Report {
    private final List<String> lines = new ArrayList<>();

    static void progress(String format, Object... args) {
        System.out.printf("  .. " + format + "%n", args);
        System.out.flush();
    }

    void result(String scenario, Map<String, Object> figures) {
        StringBuilder line = new StringBuilder("RESULT scenario=").append(scenario);
        figures.forEach((k, v) -> line.append(' ').append(k).append('=').append(format(v)));
        lines.add(line.toString());
        System.out.println(line);
    }

    void printSummary() {
        System.out.println();
        System.out.println("=== summary ===");
        lines.forEach(System.out::println);
    }

    /** p50/p99/p99.9/max of a histogram recorded in microseconds, as milliseconds. */
    static Map<String, Object> percentilesMs(String prefix, Histogram micros) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(prefix + "p50_ms", micros.getValueAtPercentile(50) / 1000.0);
        m.put(prefix + "p99_ms", micros.getValueAtPercentile(99) / 1000.0);
        m.put(prefix + "p99.9_ms", micros.getValueAtPercentile(99.9) / 1000.0);
        m.put(prefix + "max_ms", micros.getMaxValue() / 1000.0);
        return m;
    }

    private static String format(Object v) {
        if (v instanceof Double d) {
            return d >= 100 ? String.format("%.0f", d) : String.format("%.2f", d);
        }
        return String.valueOf(v);
    }
}
