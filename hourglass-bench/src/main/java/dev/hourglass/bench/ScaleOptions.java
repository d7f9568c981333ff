package dev.hourglass.bench;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The options of the {@code scale} scenario (S5), mixed into {@link BenchMain} so that they live here, not there. */
final class ScaleOptions {

    @Option(names = "--scale-jobs", description = "scale scenario: pending jobs to load, in steps 10^4, 10^5, ... "
            + "up to this (default 10,000,000; quick 1,000,000; smoke 10,000).")
    Long jobs;

    @Option(names = "--scale-store", split = ",", defaultValue = "sqlite,postgres",
            description = "scale scenario: the stores, in order: ${DEFAULT-VALUE} (postgres: --jdbc-url, --db-user).")
    List<String> stores;

    @Option(names = "--scale-rate", defaultValue = "500",
            description = "scale scenario: fires per second of the lateness measurement: ${DEFAULT-VALUE}")
    int rate;

    @Option(names = "--scale-plot", description = "scale scenario: where the SVG plot goes "
            + "(default: bench-scale.svg in --dir).")
    Path plot;
}
