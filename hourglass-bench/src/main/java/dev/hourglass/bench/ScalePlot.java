package dev.hourglass.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The scale scenario's plot, as hand-written SVG (no charting library): two panels against pending jobs on a log
 * axis, one line per store. Left: durable schedules/s (8 callers), with each store's empty-store figure as a dotted
 * line. Right: the engine JVM's RSS, idle (solid) and under load (dashed), with the 1 GB target.
 */
final class ScalePlot {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
    private static final int PANEL_W = 440;
    private static final int PANEL_H = 300;
    private static final int LEFT = 70;
    private static final int TOP = 62;
    private static final int GAP = 110;

    private ScalePlot() {}

    static void write(Path file, List<ScaleScenario.Row> rows) throws IOException {
        Map<String, List<ScaleScenario.Row>> byStore = new LinkedHashMap<>();
        for (ScaleScenario.Row r : rows) {
            byStore.computeIfAbsent(r.store(), k -> new ArrayList<>()).add(r);
        }
        double minX = Double.MAX_VALUE;
        double maxX = 1;
        for (ScaleScenario.Row r : rows) {
            if (r.pending() > 0) {
                minX = Math.min(minX, r.pending());
                maxX = Math.max(maxX, r.pending());
            }
        }
        if (minX == Double.MAX_VALUE) {
            minX = 1;
        }
        double lo = Math.floor(Math.log10(minX));
        double hi = Math.max(lo + 1, Math.ceil(Math.log10(maxX)));
        int width = LEFT + PANEL_W + GAP + PANEL_W + 30;
        int height = TOP + PANEL_H + 90;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", width, height, width, height));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">"
                + "Hourglass S5: throughput and RSS against pending jobs</text>%n", LEFT));

        double maxRate = 0;
        double maxRss = 1024;
        for (ScaleScenario.Row r : rows) {
            maxRate = Math.max(maxRate, r.schedPerS());
            maxRss = Math.max(maxRss, Math.max(r.rssIdle(), r.rssLoad()));
        }
        Panel rate = new Panel(LEFT, TOP, lo, hi, niceMax(maxRate * 1.1), "durable schedules/s (8 callers)");
        Panel rss = new Panel(LEFT + PANEL_W + GAP, TOP, lo, hi, niceMax(maxRss * 1.1),
                "engine JVM RSS, MB (solid idle, dashed under load)");
        rate.frame(svg);
        rss.frame(svg);
        rss.hline(svg, 1024, "#888", "6,4", "target 1 GB");

        int i = 0;
        for (Map.Entry<String, List<ScaleScenario.Row>> e : byStore.entrySet()) {
            String color = COLORS[i % COLORS.length];
            List<ScaleScenario.Row> points = e.getValue().stream().filter(r -> r.pending() > 0).toList();
            e.getValue().stream().filter(r -> r.pending() == 0).mapToDouble(ScaleScenario.Row::schedPerS).average()
                    .ifPresent(empty -> rate.hline(svg, empty, color, "2,3", e.getKey() + " empty store (mean)"));
            rate.line(svg, points, ScaleScenario.Row::schedPerS, color, null);
            rss.line(svg, points, ScaleScenario.Row::rssIdle, color, null);
            rss.line(svg, points, ScaleScenario.Row::rssLoad, color, "6,4");
            int ly = TOP + PANEL_H + 62 + 0;
            int lx = LEFT + i * 160;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    + "stroke-width=\"2.5\"/><text x=\"%d\" y=\"%d\">%s</text>%n", lx, ly, lx + 24, ly, color,
                    lx + 30, ly + 4, escape(e.getKey())));
            i++;
        }
        svg.append("</svg>\n");
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, svg, StandardCharsets.UTF_8);
    }

    /** One chart area: log10 x from 10^lo to 10^hi, linear y from 0 to yMax. */
    private record Panel(int x0, int y0, double lo, double hi, double yMax, String title) {
        double x(double pending) {
            return x0 + (Math.log10(pending) - lo) / (hi - lo) * PANEL_W;
        }

        double y(double value) {
            return y0 + PANEL_H - value / yMax * PANEL_H;
        }

        void frame(StringBuilder svg) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n", x0,
                    y0 - 12, escape(title)));
            for (int t = 0; t <= 5; t++) {
                double v = yMax * t / 5;
                double yy = y(v);
                svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                        + "stroke=\"#e5e5e5\"/>%n", x0, yy, x0 + PANEL_W, yy));
                svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                        x0 - 6, yy + 4, String.format(Locale.ROOT, "%,.0f", v)));
            }
            for (int p = (int) lo; p <= (int) hi; p++) {
                double xx = x(Math.pow(10, p));
                svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                        + "stroke=\"#e5e5e5\"/>%n", xx, y0, xx, y0 + PANEL_H));
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
                        + "10<tspan dy=\"-5\" font-size=\"9\">%d</tspan></text>%n", xx, y0 + PANEL_H + 18, p));
            }
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                    + "stroke=\"#333\"/>%n", x0, y0, PANEL_W, PANEL_H));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">pending jobs "
                    + "(log scale)</text>%n", x0 + PANEL_W / 2, y0 + PANEL_H + 38));
        }

        void hline(StringBuilder svg, double value, String color, String dash, String label) {
            double yy = y(value);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
                    + "stroke-dasharray=\"%s\"/>%n", x0, yy, x0 + PANEL_W, yy, color, dash));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\" "
                    + "font-size=\"10\">%s</text>%n", x0 + PANEL_W - 4, yy - 4, color, escape(label)));
        }

        void line(StringBuilder svg, List<ScaleScenario.Row> points, ToDoubleFunction<ScaleScenario.Row> value,
                String color, String dash) {
            if (points.isEmpty()) {
                return;
            }
            StringBuilder path = new StringBuilder();
            for (ScaleScenario.Row r : points) {
                path.append(path.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f,%.1f",
                        x(r.pending()), y(value.applyAsDouble(r))));
            }
            svg.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                    + "stroke-width=\"2.5\"%s/>%n", path, color, dash == null ? ""
                    : " stroke-dasharray=\"" + dash + "\""));
            for (ScaleScenario.Row r : points) {
                svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n",
                        x(r.pending()), y(value.applyAsDouble(r)), color));
            }
        }
    }

    /** 1, 2 or 5 times a power of ten, at or above {@code v}. */
    static double niceMax(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
