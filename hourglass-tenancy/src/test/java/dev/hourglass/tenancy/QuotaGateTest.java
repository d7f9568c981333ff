package dev.hourglass.tenancy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hourglass.core.api.JobRequest;
import dev.hourglass.core.api.Outcome;
import dev.hourglass.core.api.When;
import dev.hourglass.core.engine.EngineConfig;
import dev.hourglass.core.engine.Hourglass;
import dev.hourglass.core.store.JobStore;
import dev.hourglass.core.time.ManualClock;
import dev.hourglass.store.jdbc.SqlDatabase;
import dev.hourglass.store.sqlite.SqliteJobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quota checks, on an injected monotonic clock (exact, no sleeping) and a real SQLite store. */
class QuotaGateTest {
    private static final Instant T0 = Instant.parse("2026-11-27T00:00:00Z");

    @TempDir
    Path dir;

    private static Tenant tenant(String name, Quotas quotas) {
        return new Tenant(name, 1, quotas, List.of("whsec_0WcasmH8iDw+lQygKj54sVgujKPVrm4ikWvP9VQw2PA="),
                TargetSettings.DEFAULTS, T0, T0);
    }

    private static Quotas rate(long perSecond, long burst) {
        Quotas d = Quotas.DEFAULTS;
        return new Quotas(d.maxPendingJobs(), perSecond, burst, d.maxPayloadBytes(), d.maxDelay(), d.maxInFlight());
    }

    @Test
    void theBurstIsAdmittedThenTheRateRefillsOnTheMonotonicClock() {
        ManualClock clock = new ManualClock(T0);
        try (JobStore store = SqliteJobStore.open(dir.resolve("h.db"));
                QuotaGate gate = new QuotaGate(JdbcTenantStore.on((SqlDatabase) store), clock, Duration.ofHours(1))) {
            Tenant t = tenant("t", rate(2, 3));
            for (int i = 0; i < 3; i++) {
                assertThat(gate.admit(t, 0, Duration.ZERO)).as("burst %d", i).isNull();
            }
            QuotaRefusal refused = gate.admit(t, 0, Duration.ZERO);
            assertThat(refused.quota()).isEqualTo("schedulesPerSecond");
            assertThat(refused.limit()).isEqualTo(2);
            assertThat(refused.retryAfterSeconds()).isEqualTo(1);

            clock.advance(Duration.ofMillis(499));
            assertThat(gate.admit(t, 0, Duration.ZERO)).as("not quite one token yet").isNotNull();
            clock.advance(Duration.ofMillis(1));
            assertThat(gate.admit(t, 0, Duration.ZERO)).as("one token after 500 ms at 2/s").isNull();
            assertThat(gate.admit(t, 0, Duration.ZERO)).isNotNull();

            Tenant raised = tenant("t", rate(2, 10));
            assertThat(gate.admit(raised, 0, Duration.ZERO)).as("a changed quota applies at once").isNull();
        }
    }

    @Test
    void aRefusalForSizeOrHorizonSpendsNoToken() {
        ManualClock clock = new ManualClock(T0);
        try (JobStore store = SqliteJobStore.open(dir.resolve("h.db"));
                QuotaGate gate = new QuotaGate(JdbcTenantStore.on((SqlDatabase) store), clock, Duration.ofHours(1))) {
            Quotas d = Quotas.DEFAULTS;
            Tenant t = tenant("t", new Quotas(d.maxPendingJobs(), 1, 1, 10, Duration.ofMinutes(1), 1));
            assertThat(gate.admit(t, 11, Duration.ZERO).quota()).isEqualTo("maxPayloadBytes");
            assertThat(gate.admit(t, 0, Duration.ofSeconds(61)).quota()).isEqualTo("maxDelay");
            assertThat(gate.admit(t, 10, Duration.ofSeconds(60))).as("the one token is still there").isNull();
        }
    }

    @Test
    void pendingIsTheStoresCountPlusWhatWasAcceptedSince() {
        ManualClock clock = new ManualClock(T0);
        try (JobStore store = SqliteJobStore.open(dir.resolve("h.db"))) {
            try (Hourglass engine = Hourglass.builder().store(store, false)
                    .config(EngineConfig.defaults("quota-test")).handler("h", ctx -> Outcome.succeeded()).build()) {
                for (int i = 0; i < 3; i++) {
                    engine.schedule(JobRequest.of("h", new byte[0]).withTenant("t"), When.after(Duration.ofHours(1)));
                }
                engine.schedule(JobRequest.of("h", new byte[0]).withTenant("other"), When.after(Duration.ofHours(1)));
            }
            try (QuotaGate gate = new QuotaGate(JdbcTenantStore.on((SqlDatabase) store), clock, Duration.ofHours(1))
                    .start()) {
                assertThat(gate.pending("t")).isEqualTo(3);
                assertThat(gate.pending("other")).isEqualTo(1);
                assertThat(gate.pending("nobody")).isZero();
                gate.accepted("t");
                assertThat(gate.pending("t")).isEqualTo(4);

                Quotas d = Quotas.DEFAULTS;
                Tenant t = tenant("t", new Quotas(4, d.schedulesPerSecond(), d.scheduleBurst(), d.maxPayloadBytes(),
                        d.maxDelay(), d.maxInFlight()));
                QuotaRefusal refused = gate.admit(t, 0, Duration.ZERO);
                assertThat(refused.quota()).isEqualTo("maxPendingJobs");
                assertThat(refused.detail()).contains("has 4 jobs pending");

                gate.recount(); // the accepted one was never stored (this test only said so): the count corrects it
                assertThat(gate.pending("t")).isEqualTo(3);
                assertThat(gate.admit(t, 0, Duration.ZERO)).isNull();
            }
        }
    }
}
