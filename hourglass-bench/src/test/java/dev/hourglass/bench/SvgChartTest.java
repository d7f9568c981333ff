package dev.hourglass.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.xml.parsers.DocumentBuilderFactory;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class SvgChartTest {

    private static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<String> texts(Document doc) {
        List<String> out = new ArrayList<>();
        NodeList nodes = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "text");
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add(nodes.item(i).getTextContent());
        }
        return out;
    }

    /** Every number-valued attribute of every element parses as a finite number. */
    private static void assertFiniteCoordinates(Document doc) {
        NodeList all = doc.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            for (String a : List.of("x", "y", "x1", "y1", "x2", "y2", "width", "height")) {
                if (e.hasAttribute(a)) {
                    assertThat(Double.parseDouble(e.getAttribute(a))).as(e.getTagName() + "@" + a).isFinite();
                }
            }
        }
    }

    private static Histogram latencies(long... micros) {
        Histogram h = new Histogram(3);
        for (long m : micros) {
            h.recordValue(m);
        }
        return h;
    }

    @Test
    void percentileChartIsWellFormedSvgWithEscapedNames() throws Exception {
        Histogram fast = new Histogram(3);
        for (int i = 1; i <= 10_000; i++) {
            fast.recordValue(500 + i % 3_000); // 0.5 .. 3.5 ms
        }
        Histogram slow = latencies(50_000, 100_000, 60_000_000); // up to a minute
        String svg = SvgChart.percentiles("Lateness <S3> & \"friends\"", "subtitle 'quoted'",
                List.of(SvgChart.curve("Hourglass, 1 node", fast, 99.9), SvgChart.curve("Quartz <slow>", slow, 99.9)),
                List.of(new SvgChart.Mark(99, 10, "targets: p99 <= 10 ms, p99.9 <= 25 ms"),
                        new SvgChart.Mark(99.9, 25, "")), 99.9);

        Document doc = parse(svg);

        assertThat(doc.getDocumentElement().getLocalName()).isEqualTo("svg");
        assertThat(doc.getDocumentElement().getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
        assertThat(texts(doc)).contains("Lateness <S3> & \"friends\"", "subtitle 'quoted'", "Hourglass, 1 node",
                "Quartz <slow>", "p50", "p99", "p99.9", "1 ms", "10 s",
                "targets: p99 <= 10 ms, p99.9 <= 25 ms");
        assertThat(doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "path").getLength())
                .isGreaterThanOrEqualTo(2);
        assertFiniteCoordinates(doc);
        assertThat(svg).doesNotContain("NaN").doesNotContain("Infinity");
    }

    @Test
    void emptyAndZeroInputsStillGiveAWellFormedChart() throws Exception {
        String noSeries = SvgChart.percentiles("nothing", null, List.of(), List.of(), 99.9);
        String emptyHistogram = SvgChart.percentiles("empty", "", List.of(SvgChart.curve("none",
                new Histogram(3), 99.9)), List.of(), 99.9);
        String zeros = SvgChart.percentiles("zeros", "", List.of(SvgChart.curve("zero", latencies(0, 0, 0), 99.9)),
                List.of(), 99.9);
        String bars = SvgChart.bars("bars", "", "jobs/s", List.of(), List.of("a"), new double[][] {{}});

        for (String svg : List.of(noSeries, emptyHistogram, zeros, bars)) {
            Document doc = parse(svg);
            assertThat(doc.getDocumentElement().getLocalName()).isEqualTo("svg");
            assertFiniteCoordinates(doc);
            assertThat(svg).doesNotContain("NaN").doesNotContain("Infinity");
        }
    }

    @Test
    void barChartDrawsOneBarPerValueAndADashForAMissingOne() throws Exception {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY); // decimal commas must not leak into coordinates
        try {
            String svg = SvgChart.bars("S1 & S2", "sub", "jobs per second",
                    List.of("Hourglass\n1 node", "db-scheduler\nlock-and-fetch", "Quartz"),
                    List.of("S1 schedules/s", "S2 drain jobs/s"),
                    new double[][] {{9_543.4, 8_022, 294}, {18_664, 5_568, Double.NaN}});

            Document doc = parse(svg);

            assertFiniteCoordinates(doc);
            List<String> texts = texts(doc);
            assertThat(texts).contains("S1 & S2", "9,543", "18,664", "294", "-", "Hourglass", "1 node",
                    "lock-and-fetch", "S1 schedules/s", "S2 drain jobs/s");
            // background + plot frame + 5 bars + 2 legend boxes
            assertThat(doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "rect").getLength()).isEqualTo(9);
        } finally {
            Locale.setDefault(before);
        }
    }

    @Test
    void curveRunsFromTheMedianToTheLastPercentileAndRisesMonotonically() {
        Histogram h = new Histogram(3);
        for (int i = 1; i <= 100_000; i++) {
            h.recordValue(i);
        }

        List<SvgChart.Point> points = SvgChart.curve("x", h, 99.9).points();

        assertThat(points.getFirst().percentile()).isEqualTo(50.0, org.assertj.core.data.Offset.offset(0.01));
        assertThat(points.getLast().percentile()).isEqualTo(99.9, org.assertj.core.data.Offset.offset(0.01));
        for (int i = 1; i < points.size(); i++) {
            assertThat(points.get(i).valueMs()).isGreaterThanOrEqualTo(points.get(i - 1).valueMs());
        }
        assertThat(SvgChart.nines(99)).isEqualTo(2.0, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void writeCreatesTheDirectoryAndTheFile(@TempDir Path tmp) throws Exception {
        Path file = SvgChart.write(tmp.resolve("plots/a.svg"),
                SvgChart.bars("t", "", "y", List.of("g"), List.of("s"), new double[][] {{1}}));

        assertThat(file).exists();
        assertThat(parse(Files.readString(file)).getDocumentElement().getLocalName()).isEqualTo("svg");
    }

    @Test
    void niceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertThat(SvgChart.niceStep(34_737, 5)).isEqualTo(10_000);
        assertThat(SvgChart.niceStep(9_000, 5)).isEqualTo(2_000);
        assertThat(SvgChart.niceStep(1, 5)).isEqualTo(0.2, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(SvgChart.escape("a<b>&\"c'\u0001")).isEqualTo("a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
