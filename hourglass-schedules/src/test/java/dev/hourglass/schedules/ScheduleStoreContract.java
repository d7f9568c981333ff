package dev.hourglass.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.model.JobId;
import dev.hourglass.core.model.JobIdGenerator;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.recurring.DstGap;
import dev.hourglass.recurring.Misfire;
import dev.hourglass.store.jdbc.SqlDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every store of schedules promises, run on a real database by each store's subclass. */
abstract class ScheduleStoreContract {
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00.123Z");

    protected JobStore jobs;
    protected ScheduleStore store;
    private final JobIdGenerator ids = new JobIdGenerator(InstantSource.fixed(T0));

    /** A fresh, empty job store with the {@link SqlDatabase} capability. */
    protected abstract JobStore openStore();

    @BeforeEach
    void open() {
        jobs = openStore();
        store = JdbcScheduleStore.on((SqlDatabase) jobs);
    }

    @AfterEach
    void close() {
        if (jobs != null) {
            jobs.close();
        }
    }

    static Schedule schedule(String id, String tenant, String name) {
        ScheduleDefinition definition = new ScheduleDefinition(name, "30 2 * * *", null, "America/New_York",
                DstGap.SKIP, "webhook", "{\"url\":\"https://example.com/h\"}", new byte[] {1, 2, 0, 3}, 5,
                Duration.ofSeconds(30), T0, T0.plus(Duration.ofDays(30)), Duration.ofSeconds(9), Overlap.ALLOW,
                Misfire.FIRE_ALL, Duration.ofMinutes(5), T0);
        return new Schedule(id, tenant, definition, false, 1, 1, T0, T0, null, T0, T0.plusSeconds(60), null, 0, 0);
    }

    @Test
    void aScheduleReadsBackAsWritten() {
        Schedule schedule = schedule("sch_a", "acme", "nightly");
        assertThat(store.create(schedule)).isTrue();
        Schedule read = store.find("acme", "sch_a").orElseThrow();
        assertThat(read).usingRecursiveComparison().isEqualTo(schedule);
        assertThat(read.definition().payload()).containsExactly(1, 2, 0, 3);
        assertThat(store.find("other", "sch_a")).as("another tenant's").isEmpty();
    }

    @Test
    void namesAreUniquePerTenant() {
        assertThat(store.create(schedule("sch_a", "acme", "nightly"))).isTrue();
        assertThat(store.create(schedule("sch_b", "acme", "nightly"))).isFalse();
        assertThat(store.create(schedule("sch_c", "beta", "nightly"))).isTrue();
        assertThat(store.list("acme", null, 10)).extracting(Schedule::id).containsExactly("sch_a");
    }

    @Test
    void listPagesInIdOrder() {
        for (String id : List.of("sch_3", "sch_1", "sch_2")) {
            store.create(schedule(id, "acme", "n" + id));
        }
        assertThat(store.list("acme", null, 2)).extracting(Schedule::id).containsExactly("sch_1", "sch_2");
        assertThat(store.list("acme", "sch_2", 2)).extracting(Schedule::id).containsExactly("sch_3");
    }

    @Test
    void replaceIsACompareAndSetOnTheVersion() throws Exception {
        Schedule first = schedule("sch_a", "acme", "nightly");
        store.create(first);
        int racers = 8;
        List<Callable<Boolean>> calls = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            long missed = i + 1;
            calls.add(() -> store.replace(first, first.next(T0.plusSeconds(1), first.definition(), false, 1, T0,
                    T0.plusSeconds(5), T0.plusSeconds(60), missed), List.of()));
        }
        int won = 0;
        try (ExecutorService threads = Executors.newFixedThreadPool(racers)) {
            for (Future<Boolean> result : threads.invokeAll(calls, 60, TimeUnit.SECONDS)) {
                won += result.get() ? 1 : 0;
            }
        }
        assertThat(won).isEqualTo(1);
        Schedule stored = store.find("acme", "sch_a").orElseThrow();
        assertThat(stored.version()).isEqualTo(2);
        assertThat(stored.missedRuns()).isBetween(1L, (long) racers);
    }

    @Test
    void runsAreRecordedWithTheStateThatCountsThemAndAReplacementTakesTheNewJob() {
        Schedule first = schedule("sch_a", "acme", "nightly");
        store.create(first);
        JobId job1 = ids.next();
        JobId job2 = ids.next();
        Instant nominal1 = T0.plusSeconds(60);
        Instant nominal2 = T0.plusSeconds(120);
        Schedule second = first.next(T0, first.definition(), false, 1, nominal2, T0, nominal1, 0);
        assertThat(store.replace(first, second, List.of(new ScheduleRun("sch_a", nominal1, job1),
                new ScheduleRun("sch_a", nominal2, job2)))).isTrue();
        assertThat(store.replace(first, second, List.of(new ScheduleRun("sch_a", T0.plusSeconds(180), job1))))
                .as("a stale version writes neither the state nor its runs").isFalse();
        assertThat(store.runsAfter("sch_a", T0)).extracting(ScheduleRun::nominalAt).containsExactly(nominal1, nominal2);
        assertThat(store.runBefore("sch_a", nominal2)).get().extracting(ScheduleRun::jobId).isEqualTo(job1);
        assertThat(store.runBefore("sch_a", nominal1)).isEmpty();

        JobId replacement = ids.next();
        Schedule third = second.next(T0, second.definition(), false, 2, nominal2, T0, nominal2, 0);
        assertThat(store.replace(second, third, List.of(new ScheduleRun("sch_a", nominal2, replacement)))).isTrue();
        assertThat(store.runsAfter("sch_a", nominal1)).extracting(ScheduleRun::jobId).containsExactly(replacement);
    }

    @Test
    void deleteTakesTheRunRecordsWithIt() {
        Schedule first = schedule("sch_a", "acme", "nightly");
        store.create(first);
        store.replace(first, first.next(T0, first.definition(), false, 1, T0.plusSeconds(60), null, null, 0),
                List.of(new ScheduleRun("sch_a", T0.plusSeconds(60), ids.next())));
        assertThat(store.delete("other", "sch_a")).isFalse();
        assertThat(store.delete("acme", "sch_a")).isTrue();
        assertThat(store.find("acme", "sch_a")).isEmpty();
        assertThat(store.runsAfter("sch_a", T0)).isEmpty();
        assertThat(store.create(schedule("sch_b", "acme", "nightly"))).as("the name is free again").isTrue();
    }

    @Test
    void dueForMaterializingIsEarliestFirstAndSkipsPausedOnes() {
        Schedule a = schedule("sch_a", "acme", "a");
        Schedule b = schedule("sch_b", "acme", "b");
        Schedule c = schedule("sch_c", "beta", "c");
        store.create(a);
        store.create(b);
        store.create(c);
        store.replace(a, a.next(T0, a.definition(), false, 1, null, T0.plusSeconds(30), null, 0), List.of());
        store.replace(b, b.next(T0, b.definition(), false, 1, null, T0.plusSeconds(10), null, 0), List.of());
        store.replace(c, c.next(T0, c.definition(), true, 1, null, null, null, 0), List.of());
        assertThat(store.dueForMaterializing(T0.plusSeconds(30), 10)).extracting(Schedule::id)
                .containsExactly("sch_b", "sch_a");
        assertThat(store.dueForMaterializing(T0.plusSeconds(29), 10)).extracting(Schedule::id)
                .containsExactly("sch_b");
        assertThat(store.dueForMaterializing(T0.plusSeconds(30), 1)).extracting(Schedule::id)
                .containsExactly("sch_b");
    }
}
