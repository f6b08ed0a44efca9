package dev.herald.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The core and the protocol stay free of frameworks, JDBC and JWT libraries; inside the core,
 * dependencies point one way: the hub assembles delivery and limits, which know nothing of it.
 */
@AnalyzeClasses(
    packages = {"dev.herald.core", "dev.herald.protocol"},
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule coreAndProtocolDependOnNoFrameworks =
      noClasses()
          .that()
          .resideInAnyPackage("dev.herald.core..", "dev.herald.protocol..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.vertx..", "io.netty..", "java.sql..", "javax.sql..", "com.nimbusds..")
          .because("herald-core and herald-protocol must stay embeddable without a framework");

  @ArchTest
  static final ArchRule protocolDoesNotDependOnCore =
      noClasses()
          .that()
          .resideInAPackage("dev.herald.protocol..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("dev.herald.core..")
          .because("the protocol module is the lower layer, shared with clients");

  @ArchTest
  static final ArchRule deliveryAndLimitsKnowNothingOfTheHub =
      noClasses()
          .that()
          .resideInAnyPackage("dev.herald.core.delivery..", "dev.herald.core.limits..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("dev.herald.core.hub..")
          .because("the hub assembles them: they reach a session only through delivery.Connection");

  @ArchTest
  static final ArchRule corePackagesAreFreeOfCycles =
      slices().matching("dev.herald.core.(*)..").should().beFreeOfCycles();
}
