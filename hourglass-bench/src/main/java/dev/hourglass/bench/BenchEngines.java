package dev.hourglass.bench;

import dev.hourglass.core.api.JobHandler;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.EngineMetrics;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Fresh stores and engines for each scenario, in a scratch directory that is deleted afterwards. */
final class BenchEngines {
    private BenchEngines() {}

    static Path scratch(Path parent, String name) {
        try {
            Files.createDirectories(parent);
            return Files.createTempDirectory(parent, name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Hourglass engine(Path dir, JobHandler handler, EngineMetrics metrics, int maxInFlight) {
        return engine(dir, handler, metrics, maxInFlight, "noop");
    }

    static Hourglass engine(Path dir, JobHandler handler, EngineMetrics metrics, int maxInFlight,
            String handlerName) {
        return engine(SqliteJobStore.open(dir.resolve("hourglass.db")), handler, metrics, maxInFlight, handlerName,
                true);
    }

    /** An engine that closes {@code store} with it; {@code deliveryHistory} as the library's builder takes it. */
    static Hourglass engine(JobStore store, JobHandler handler, EngineMetrics metrics, int maxInFlight,
            String handlerName, boolean deliveryHistory) {
        EngineConfig config = EngineConfig.builder("bench").maxInFlight(maxInFlight).build();
        return Hourglass.builder()
                .store(store)
                .config(config)
                .metrics(metrics)
                .deliveryHistory(deliveryHistory)
                .handler(handlerName, handler)
                .build();
    }

    static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a scratch directory left behind is not worth failing a benchmark for
        }
    }
}
