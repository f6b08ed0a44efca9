package dev.herald.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ConnectRequest;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.server.Herald;
import dev.herald.server.config.ConfigException;
import dev.herald.server.config.HeraldConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;

/** Which parts the auto-configuration sets up, and how the herald.* properties reach Herald. */
class HeraldAutoConfigurationTest {
  static final String JWT = "herald.config.auth.jwt.secrets=" + "s".repeat(32);

  private final ApplicationContextRunner plain =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(HeraldAutoConfiguration.class))
          .withPropertyValues("herald.server.port=0");

  @Test
  void propertiesBecomeHeraldsKeys() {
    plain
        .withPropertyValues(
            JWT,
            "herald.namespaces=desk,project",
            "herald.namespace.desk.history-size=50",
            "herald.server.allowed-origins=http://localhost:8080,https://app.example.com",
            "herald.node-name=web-1",
            "herald.config.limits.max-publish-bytes=16384")
        .run(
            context -> {
              HeraldConfig config = context.getBean(HeraldConfig.class);
              assertThat(config.port()).isZero();
              assertThat(config.hub().node()).isEqualTo("web-1");
              assertThat(config.allowedOrigins())
                  .containsExactly("http://localhost:8080", "https://app.example.com");
              assertThat(config.namespaces())
                  .extracting(NamespaceSettings::name)
                  .containsExactlyInAnyOrder("desk", "project");
              assertThat(config.namespaces())
                  .filteredOn(n -> n.name().equals("desk"))
                  .singleElement()
                  .extracting(NamespaceSettings::historySize)
                  .isEqualTo(50);
              assertThat(config.hub().maxPublishBytes()).isEqualTo(16384);
              assertThat(context.getBean(Herald.class).port()).isPositive();
              assertThat(context).hasSingleBean(HeraldPublisher.class);
              // Not a servlet application: no session authenticator, JWT instead.
              assertThat(context).doesNotHaveBean(SpringSessionAuthenticator.class);
              assertThat(context.getBean(Herald.class).jwt()).isNotNull();
            });
  }

  @Test
  void aBadValueFailsStartupWithHeraldsMessage() {
    plain
        .withPropertyValues(JWT, "herald.config.limits.max-publish-bytes=lots")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("limits.max-publish-bytes"));
  }

  @Test
  void withoutAnyAuthenticationStartupFailsAndSaysWhatToConfigure() {
    plain.run(
        context ->
            assertThat(context)
                .getFailure()
                .rootCause()
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no authenticator"));
  }

  @Test
  void canBeSwitchedOff() {
    plain
        .withPropertyValues("herald.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(Herald.class));
  }

  @Test
  void theApplicationsAuthenticatorWinsOverTheSessionOne() {
    Authenticator nobody =
        request -> CompletableFuture.failedFuture(new AuthenticationException("nobody", false));
    new WebApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(HeraldAutoConfiguration.class))
        .withPropertyValues("herald.server.port=0")
        .withBean(Authenticator.class, () -> nobody)
        .run(
            context -> {
              assertThat(context).doesNotHaveBean(SpringSessionAuthenticator.class);
              assertThat(context).hasSingleBean(Herald.class);
            });
  }

  @Test
  void aServletApplicationAuthenticatesBySession() {
    new WebApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(HeraldAutoConfiguration.class))
        .withPropertyValues("herald.server.port=0", "herald.session.cookie-name=SID")
        .run(
            context -> {
              SpringSessionAuthenticator sessions =
                  context.getBean(SpringSessionAuthenticator.class);
              ConnectRequest unknown =
                  new ConnectRequest(null, Map.of("cookie", "SID=abc"), "127.0.0.1", "websocket");
              assertThat(sessions.authenticate(unknown).toCompletableFuture())
                  .failsWithin(java.time.Duration.ofSeconds(1))
                  .withThrowableThat()
                  .withMessageContaining("no such session");
            });
  }

  @Test
  void heraldsMetersJoinTheApplicationsRegistryAndLeaveItAtShutdown() {
    MeterRegistry app = new SimpleMeterRegistry();
    plain
        .withPropertyValues(JWT)
        .withBean(MeterRegistry.class, () -> app)
        .run(
            context -> {
              assertThat(app.find("herald.connections").tag("transport", "websocket").gauge())
                  .isNotNull();
              assertThat(app.find("herald.publications").counter()).isNotNull();
              // The application binds its own JVM metrics: Herald's stay in its registry.
              assertThat(app.find("jvm.memory.used").meters()).isEmpty();
              assertThat(context.getBean(Herald.class).meterRegistry().scrape())
                  .contains("herald_publications_total", "jvm_memory_used_bytes");
            });
    assertThat(app.find("herald.publications").meters()).isEmpty();
  }

  @Test
  void thePropertiesHaveMetadataForIdeCompletion() throws Exception {
    try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).isNotNull();
      String metadata = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(metadata)
          .contains(
              "\"name\": \"herald.server.port\"",
              "\"name\": \"herald.session.cookie-name\"",
              "\"name\": \"herald.namespaces\"",
              "\"name\": \"herald.config\"",
              "Herald's port, apart from the application's");
    }
  }
}
