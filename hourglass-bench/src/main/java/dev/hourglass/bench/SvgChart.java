package dev.hourglass.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The bench's plots, as SVG text written by hand (no charting dependency): percentile curves of a latency on a log
 * axis, and grouped bars. Every number in the markup is formatted with {@link Locale#ROOT}, and every piece of text
 * is escaped, so the output is well-formed XML whatever the names and the default locale.
 */
final class SvgChart {
    static final String[] PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
        "#7f7f7f"};
    private static final int WIDTH = 820;
    private static final int LEFT = 80;
    private static final int RIGHT = 30;
    private static final int TOP = 64;
    private static final int PLOT_HEIGHT = 320;
    private static final int LEGEND_ROW = 18;
    /** Lateness below 1 µs is drawn at 1 µs: a log axis has no zero. */
    private static final double FLOOR_MS = 0.001;

    private SvgChart() {}

    /** One point of a curve: {@code percentile} in (0, 100), {@code valueMs} in milliseconds. */
    record Point(double percentile, double valueMs) {}

    /** One curve and its legend text. */
    record Series(String name, List<Point> points) {}

    /** A labelled marker, e.g. a target: drawn as a diamond at (percentile, value). */
    record Mark(double percentile, double valueMs, String label) {}

    /**
     * The percentile curve of a histogram recorded in microseconds, from p50 to {@code maxPercentile}, evenly spaced
     * on the "nines" axis; empty if the histogram is.
     */
    static Series curve(String name, Histogram micros, double maxPercentile) {
        List<Point> points = new ArrayList<>();
        if (micros.getTotalCount() > 0) {
            double last = nines(maxPercentile);
            for (double x = nines(50); x < last + 1e-9; x += 0.025) {
                double p = Math.min(maxPercentile, 100 * (1 - Math.pow(10, -x)));
                points.add(new Point(p, micros.getValueAtPercentile(p) / 1000.0));
            }
        }
        return new Series(name, points);
    }

    /** The x position of a percentile on the "nines" axis: 50 -> 0.30, 90 -> 1, 99 -> 2, 99.9 -> 3. */
    static double nines(double percentile) {
        return -Math.log10(1 - percentile / 100.0);
    }

    /**
     * Percentile curves (x: percentile, p50 to {@code maxPercentile} on the nines axis; y: milliseconds, log scale),
     * one colour per series, with the legend below the plot.
     */
    static String percentiles(String title, String subtitle, List<Series> series, List<Mark> marks,
            double maxPercentile) {
        double minY = Double.MAX_VALUE;
        double maxY = 0;
        for (Series s : series) {
            for (Point p : s.points()) {
                if (Double.isFinite(p.valueMs())) {
                    minY = Math.min(minY, Math.max(FLOOR_MS, p.valueMs()));
                    maxY = Math.max(maxY, Math.max(FLOOR_MS, p.valueMs()));
                }
            }
        }
        for (Mark m : marks) {
            minY = Math.min(minY, Math.max(FLOOR_MS, m.valueMs()));
            maxY = Math.max(maxY, Math.max(FLOOR_MS, m.valueMs()));
        }
        if (maxY == 0) {
            minY = 0.1;
            maxY = 10;
        }
        int lowDecade = (int) Math.floor(Math.log10(minY) + 1e-9);
        int highDecade = (int) Math.ceil(Math.log10(maxY) - 1e-9);
        if (highDecade <= lowDecade) {
            highDecade = lowDecade + 1;
        }
        double x0 = nines(50);
        double x1 = nines(maxPercentile);
        int plotWidth = WIDTH - LEFT - RIGHT;
        int lo = lowDecade;
        int hi = highDecade;
        Axis ax = new Axis() {
            @Override
            public double x(double percentile) {
                return LEFT + plotWidth * (nines(percentile) - x0) / (x1 - x0);
            }

            @Override
            public double y(double ms) {
                double v = Math.log10(Math.max(FLOOR_MS, ms));
                return TOP + PLOT_HEIGHT * (1 - (v - lo) / (hi - lo));
            }
        };
        int height = TOP + PLOT_HEIGHT + 56 + LEGEND_ROW * (series.size() + (marks.isEmpty() ? 0 : 1)) + 10;
        StringBuilder svg = open(height, title, subtitle);
        // y grid: decades labelled, 2..9 as faint lines
        for (int d = lowDecade; d <= highDecade; d++) {
            double y = ax.y(Math.pow(10, d));
            line(svg, LEFT, y, LEFT + plotWidth, y, "#bbbbbb", 1, null);
            text(svg, LEFT - 8, y + 4, "end", 12, "#333333", msLabel(Math.pow(10, d)));
            for (int k = 2; d < highDecade && k <= 9; k++) {
                double ym = ax.y(k * Math.pow(10, d));
                line(svg, LEFT, ym, LEFT + plotWidth, ym, "#eeeeee", 1, null);
            }
        }
        // x grid: p50, p90, p99, p99.9, p99.99 within range
        for (double p : new double[] {50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999}) {
            if (p > maxPercentile + 1e-9) {
                break;
            }
            double x = ax.x(p);
            line(svg, x, TOP, x, TOP + PLOT_HEIGHT, "#dddddd", 1, null);
            text(svg, x, TOP + PLOT_HEIGHT + 18, "middle", 12, "#333333", "p" + trim(p));
        }
        rect(svg, LEFT, TOP, plotWidth, PLOT_HEIGHT, "none", "#666666");
        text(svg, LEFT + plotWidth / 2.0, TOP + PLOT_HEIGHT + 38, "middle", 12, "#333333",
                "percentile of jobs (log scale of 1/(1 - p))");
        svg.append(String.format(Locale.ROOT,
                "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333333\" "
                        + "transform=\"rotate(-90 16 %.1f)\">lateness (log scale)</text>%n",
                TOP + PLOT_HEIGHT / 2.0, TOP + PLOT_HEIGHT / 2.0));
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String colour = PALETTE[i % PALETTE.length];
            StringBuilder path = new StringBuilder();
            for (Point p : s.points()) {
                if (Double.isFinite(p.valueMs()) && Double.isFinite(p.percentile())) {
                    path.append(path.isEmpty() ? "M" : " L").append(num(ax.x(p.percentile()))).append(' ')
                            .append(num(ax.y(p.valueMs())));
                }
            }
            if (!path.isEmpty()) {
                svg.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"").append(colour)
                        .append("\" stroke-width=\"2\"/>\n");
            }
            double ly = TOP + PLOT_HEIGHT + 56 + LEGEND_ROW * i;
            line(svg, LEFT, ly - 4, LEFT + 24, ly - 4, colour, 3, null);
            text(svg, LEFT + 32, ly, "start", 12, "#111111", s.name());
        }
        for (Mark m : marks) {
            double x = ax.x(m.percentile());
            double y = ax.y(m.valueMs());
            svg.append(String.format(Locale.ROOT, "<path d=\"M%s %s l5 5 l-5 5 l-5 -5 z\" fill=\"#000000\"/>%n",
                    num(x), num(y - 5)));
        }
        if (!marks.isEmpty()) {
            double ly = TOP + PLOT_HEIGHT + 56 + LEGEND_ROW * series.size();
            svg.append(String.format(Locale.ROOT, "<path d=\"M%s %s l5 5 l-5 5 l-5 -5 z\" fill=\"#000000\"/>%n",
                    num(LEFT + 12), num(ly - 9)));
            StringBuilder label = new StringBuilder();
            for (Mark m : marks) {
                if (!m.label().isEmpty()) {
                    label.append(label.isEmpty() ? "" : ", ").append(m.label());
                }
            }
            text(svg, LEFT + 32, ly, "start", 12, "#111111", label.toString());
        }
        return svg.append("</svg>\n").toString();
    }

    /**
     * Grouped bars on a linear axis from 0: one group per entry of {@code groups} (a label may hold "\n" for a
     * second line), one bar per series in each, its value written above it. {@code values[series][group]}; NaN
     * draws no bar and writes "-".
     */
    static String bars(String title, String subtitle, String yLabel, List<String> groups, List<String> seriesNames,
            double[][] values) {
        double max = 0;
        for (double[] row : values) {
            for (double v : row) {
                if (Double.isFinite(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        double step = niceStep(max > 0 ? max : 1, 5);
        double top = Math.max(step, Math.ceil((max > 0 ? max : 1) / step) * step);
        int plotWidth = WIDTH - LEFT - RIGHT;
        int height = TOP + PLOT_HEIGHT + 56 + LEGEND_ROW * seriesNames.size() + 10;
        StringBuilder svg = open(height, title, subtitle);
        for (double v = 0; v <= top + step / 2; v += step) {
            double y = TOP + PLOT_HEIGHT * (1 - v / top);
            line(svg, LEFT, y, LEFT + plotWidth, y, v == 0 ? "#666666" : "#dddddd", 1, null);
            text(svg, LEFT - 8, y + 4, "end", 12, "#333333", String.format(Locale.ROOT, "%,.0f", v));
        }
        svg.append(String.format(Locale.ROOT,
                "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333333\" "
                        + "transform=\"rotate(-90 16 %.1f)\">%s</text>%n",
                TOP + PLOT_HEIGHT / 2.0, TOP + PLOT_HEIGHT / 2.0, escape(yLabel)));
        int n = Math.max(1, groups.size());
        double groupWidth = plotWidth / (double) n;
        int k = Math.max(1, seriesNames.size());
        double barWidth = groupWidth * 0.8 / k;
        for (int g = 0; g < groups.size(); g++) {
            double gx = LEFT + g * groupWidth + groupWidth * 0.1;
            for (int s = 0; s < seriesNames.size(); s++) {
                double v = g < values[s].length ? values[s][g] : Double.NaN;
                double x = gx + s * barWidth;
                if (Double.isFinite(v) && v >= 0) {
                    double h = PLOT_HEIGHT * v / top;
                    rect(svg, x + 1, TOP + PLOT_HEIGHT - h, barWidth - 2, h, PALETTE[s % PALETTE.length], "none");
                    text(svg, x + barWidth / 2, TOP + PLOT_HEIGHT - h - 4, "middle", 11, "#111111",
                            String.format(Locale.ROOT, "%,.0f", v));
                } else {
                    text(svg, x + barWidth / 2, TOP + PLOT_HEIGHT - 4, "middle", 11, "#111111", "-");
                }
            }
            String[] label = groups.get(g).split("\n", 2);
            for (int l = 0; l < label.length; l++) {
                text(svg, gx + groupWidth * 0.4, TOP + PLOT_HEIGHT + 18 + 14 * l, "middle", 12, "#333333",
                        label[l]);
            }
        }
        rect(svg, LEFT, TOP, plotWidth, PLOT_HEIGHT, "none", "#666666");
        for (int s = 0; s < seriesNames.size(); s++) {
            double ly = TOP + PLOT_HEIGHT + 56 + LEGEND_ROW * s;
            rect(svg, LEFT, ly - 11, 24, 12, PALETTE[s % PALETTE.length], "none");
            text(svg, LEFT + 32, ly, "start", 12, "#111111", seriesNames.get(s));
        }
        return svg.append("</svg>\n").toString();
    }

    /** Writes {@code svg} to {@code file} (UTF-8), creating the directory; returns the file. */
    static Path write(Path file, String svg) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(file, svg, StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** XML-escapes text and attribute values (the five predefined entities; control characters dropped). */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> {
                    if (c >= 0x20 || c == '\t') {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private interface Axis {
        double x(double percentile);

        double y(double ms);
    }

    private static StringBuilder open(int height, String title, String subtitle) {
        StringBuilder svg = new StringBuilder();
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">%n", WIDTH, height, WIDTH, height));
        svg.append("<title>").append(escape(title)).append("</title>\n");
        rect(svg, 0, 0, WIDTH, height, "#ffffff", "none");
        text(svg, LEFT, 24, "start", 16, "#111111", title);
        if (subtitle != null && !subtitle.isEmpty()) {
            text(svg, LEFT, 44, "start", 12, "#555555", subtitle);
        }
        return svg;
    }

    private static void line(StringBuilder svg, double x1, double y1, double x2, double y2, String colour,
            double width, String dash) {
        svg.append("<line x1=\"").append(num(x1)).append("\" y1=\"").append(num(y1)).append("\" x2=\"")
                .append(num(x2)).append("\" y2=\"").append(num(y2)).append("\" stroke=\"").append(colour)
                .append("\" stroke-width=\"").append(num(width)).append('"');
        if (dash != null) {
            svg.append(" stroke-dasharray=\"").append(dash).append('"');
        }
        svg.append("/>\n");
    }

    private static void rect(StringBuilder svg, double x, double y, double w, double h, String fill, String stroke) {
        svg.append("<rect x=\"").append(num(x)).append("\" y=\"").append(num(y)).append("\" width=\"")
                .append(num(Math.max(0, w))).append("\" height=\"").append(num(Math.max(0, h))).append("\" fill=\"")
                .append(fill).append("\" stroke=\"").append(stroke).append("\"/>\n");
    }

    private static void text(StringBuilder svg, double x, double y, String anchor, int size, String colour,
            String s) {
        svg.append("<text x=\"").append(num(x)).append("\" y=\"").append(num(y)).append("\" text-anchor=\"")
                .append(anchor).append("\" font-size=\"").append(size).append("\" fill=\"").append(colour)
                .append("\">").append(escape(s)).append("</text>\n");
    }

    /** A coordinate: one decimal, '.' whatever the locale; never NaN or infinite in the output. */
    private static String num(double v) {
        if (!Double.isFinite(v)) {
            v = 0;
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** 1, 2 or 5 times a power of ten, so that about {@code ticks} steps cover {@code max}. */
    static double niceStep(double max, int ticks) {
        double raw = max / ticks;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double r = raw / magnitude;
        return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * magnitude;
    }

    private static String msLabel(double ms) {
        if (ms >= 1000) {
            return String.format(Locale.ROOT, "%,.0f s", ms / 1000);
        }
        if (ms >= 1) {
            return String.format(Locale.ROOT, "%.0f ms", ms);
        }
        return trim(ms * 1000) + " µs";
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.3f", v);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
