package dev.hourglass.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module boundaries of docs/architecture.md, checked on the compiled main classes of every module on this
 * module's classpath (the server sees all of the product). Maven already refuses an import of a module that is not a
 * declared dependency; these rules also fail when someone declares one that crosses a boundary.
 */
class ModuleBoundariesTest {
    private static JavaClasses product;

    @BeforeAll
    static void importTheProduct() {
        // Sibling modules come as directories or as jars, depending on the Maven phase: both are imported.
        product = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("dev.hourglass");
    }

    @Test
    void theCoreDependsOnTheJdkAndSlf4jOnly() {
        classes().that().resideInAPackage("dev.hourglass.core..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.hourglass.core..", "java..",
                        "org.slf4j..")
                .because("the engine is embedded in applications: it brings no framework and no driver")
                .check(product);
    }

    @Test
    void theCoreNamesNoJdbcType() {
        noClasses().that().resideInAPackage("dev.hourglass.core..")
                .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..")
                .because("SQL lives in the stores; a store's JDBC capabilities are typed in hourglass-store-jdbc")
                .check(product);
    }

    @Test
    void storesDependOnTheCoreAndTheirPlumbingOnly() {
        noClasses().that().resideInAPackage("dev.hourglass.store..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.tenancy..",
                        "dev.hourglass.webhook..", "dev.hourglass.http..", "dev.hourglass.server..")
                .because("a store keeps jobs; what the server keeps beside them comes through SqlDatabase")
                .check(product);
        noClasses().that().resideInAPackage("dev.hourglass.store.sqlite..")
                .should().dependOnClassesThat().resideInAPackage("dev.hourglass.store.postgres..")
                .check(product);
        noClasses().that().resideInAPackage("dev.hourglass.store.postgres..")
                .should().dependOnClassesThat().resideInAPackage("dev.hourglass.store.sqlite..")
                .check(product);
    }

    @Test
    void webhookDeliveryNeedsNoServerNoTenancyAndNoStore() {
        noClasses().that().resideInAPackage("dev.hourglass.webhook..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.tenancy..",
                        "dev.hourglass.http..", "dev.hourglass.server..", "dev.hourglass.store..")
                .because("the library delivers webhooks without the HTTP server")
                .check(product);
    }

    @Test
    void queueDeliveryNeedsNoServerNoTenancyNoWebhooksAndNoStore() {
        noClasses().that().resideInAPackage("dev.hourglass.queues..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.tenancy..",
                        "dev.hourglass.http..", "dev.hourglass.server..", "dev.hourglass.store..",
                        "dev.hourglass.webhook..", "dev.hourglass.schedules..")
                .because("the library delivers to queues without the HTTP server; a queue type is a job handler "
                        + "beside the webhook's, not built on it")
                .check(product);
    }

    @Test
    void tenancyNeedsNoHttpNoServerAndNoParticularStore() {
        noClasses().that().resideInAPackage("dev.hourglass.tenancy..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.http..",
                        "dev.hourglass.server..", "dev.hourglass.store.sqlite..", "dev.hourglass.store.postgres..")
                .check(product);
    }

    @Test
    void theHttpApiNeedsNoServerWiringAndNoParticularStore() {
        noClasses().that().resideInAPackage("dev.hourglass.http..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.server..",
                        "dev.hourglass.store..")
                .check(product);
    }

    @Test
    void recurringRunTimesDependOnNothingOfOursAndSchedulesOnTheCoreAndTheStorePlumbing() {
        noClasses().that().resideInAPackage("dev.hourglass.recurring..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.core..", "dev.hourglass.store..",
                        "dev.hourglass.schedules..", "dev.hourglass.webhook..", "dev.hourglass.tenancy..",
                        "dev.hourglass.http..", "dev.hourglass.server..")
                .because("run times are pure time arithmetic on java.time, usable and testable on their own")
                .check(product);
        noClasses().that().resideInAPackage("dev.hourglass.schedules..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.webhook..",
                        "dev.hourglass.tenancy..", "dev.hourglass.http..", "dev.hourglass.server..",
                        "dev.hourglass.store.sqlite..", "dev.hourglass.store.postgres..")
                .because("schedules create their runs through the engine and keep their rows through SqlDatabase, "
                        + "whatever delivers the runs and whichever store holds them")
                .check(product);
    }

    @Test
    void nothingDependsOnTheServer() {
        noClasses().that().resideOutsideOfPackage("dev.hourglass.server..")
                .should().dependOnClassesThat().resideInAPackage("dev.hourglass.server..")
                .because("the server wires the modules; it is the top of the product")
                .check(product);
    }

    @Test
    void onlyTheHttpApiAndTheServerKnowTheHttpServer() {
        noClasses().that().resideOutsideOfPackages("dev.hourglass.http..", "dev.hourglass.server..")
                .should().dependOnClassesThat().resideInAnyPackage("io.helidon..")
                .because("the HTTP server is a detail of the HTTP API and its wiring; the engine, stores, tenancy and "
                        + "webhook delivery serve without it")
                .check(product);
    }

    @Test
    void theMetricsBindingNeedsTheCoreOnly() {
        noClasses().that().resideInAPackage("dev.hourglass.metrics..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.hourglass.store..", "dev.hourglass.webhook..",
                        "dev.hourglass.tenancy..", "dev.hourglass.http..", "dev.hourglass.server..")
                .because("an application embedding the engine binds the meters to its own registry")
                .check(product);
    }

    @Test
    void onlyTheMetricsBindingAndTheServerKnowMicrometer() {
        noClasses().that().resideOutsideOfPackages("dev.hourglass.metrics..", "dev.hourglass.server..")
                .should().dependOnClassesThat().resideInAnyPackage("io.micrometer..", "io.prometheus..")
                .because("the engine, stores, delivery and HTTP API report through EngineMetrics and "
                        + "MetricsExposition; a metrics library is the binding's detail")
                .check(product);
    }

    @Test
    void tracingStaysOutOfTheEngineAndTheStores() {
        noClasses().that().resideOutsideOfPackages("dev.hourglass.webhook..", "dev.hourglass.http..",
                        "dev.hourglass.server..")
                .should().dependOnClassesThat().resideInAnyPackage("io.opentelemetry..")
                .because("a job keeps its trace context as an opaque W3C traceparent (TraceParent); only delivery, "
                        + "the API and the server's wiring know OpenTelemetry")
                .check(product);
        noClasses().that().resideOutsideOfPackage("dev.hourglass.server..")
                .should().dependOnClassesThat().resideInAnyPackage("io.opentelemetry.sdk..")
                .because("library modules trace through the OpenTelemetry API; the application picks the SDK")
                .check(product);
    }

    @Test
    void onlyTheServerBindsLogging() {
        noClasses().that().resideOutsideOfPackage("dev.hourglass.server..")
                .should().dependOnClassesThat().resideInAnyPackage("ch.qos.logback..")
                .because("library modules log through the SLF4J API; the application picks the binding")
                .check(product);
    }

    @Test
    void theSystemClockIsReadInOneClassOnly() {
        noClasses().that().doNotHaveFullyQualifiedName("dev.hourglass.core.time.SystemTime")
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(Instant.class, "now")
                .orShould().callMethod(InstantSource.class, "system")
                .orShould().callMethod(Clock.class, "systemUTC")
                .orShould().callMethod(Clock.class, "systemDefaultZone")
                .orShould().callMethod(LocalDateTime.class, "now")
                .orShould().callMethod(OffsetDateTime.class, "now")
                .orShould().callMethod(ZonedDateTime.class, "now")
                .orShould().callMethod(Thread.class, "sleep", long.class)
                .orShould().callMethod(Thread.class, "sleep", Duration.class)
                .because("time is injected (an InstantSource for due times, a Ticker for waits) so that tests "
                        + "drive it; dev.hourglass.core.time.SystemTime is the one class that wraps the system clock")
                .check(product);
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.hourglass.(**)").should().beFreeOfCycles().check(product);
    }
}
