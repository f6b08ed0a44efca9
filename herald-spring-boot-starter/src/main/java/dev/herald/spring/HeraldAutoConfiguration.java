package dev.herald.spring;

import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.server.Herald;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.config.HeraldConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Runs Herald inside a Spring Boot application, on a port of its own ({@code herald.server.port},
 * 8081 by default), started with the application context and stopped with it. See docs/embedding.md
 * ("Spring Boot").
 *
 * <ul>
 *   <li>{@link HeraldProperties}: the {@code herald.*} properties, checked by Herald's config.
 *   <li>Authentication: the application's {@link Authenticator} bean; else, in a servlet
 *       application with Spring Security, {@link SpringSessionAuthenticator}; else Herald's JWT
 *       settings ({@code herald.config.auth.jwt.*}).
 *   <li>{@link HeraldPublisher}, to publish from services, after commit in a transaction.
 *   <li>With Actuator: {@link HeraldHealthIndicator} and Herald's meters in the application's
 *       {@link MeterRegistry}.
 * </ul>
 */
@AutoConfiguration(
    afterName =
        "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration")
@ConditionalOnProperty(
    prefix = "herald",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(HeraldProperties.class)
public class HeraldAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  public HeraldConfig heraldConfig(HeraldProperties properties) {
    // Spring has bound the environment already (HERALD_SERVER_PORT is herald.server.port).
    return ConfigLoader.fromMap(properties.toConfigKeys(), Map.of());
  }

  /** Built and started here, so that it serves (and publishes) once the context has it. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public Herald herald(
      HeraldConfig config,
      ObjectProvider<Authenticator> authenticator,
      ObjectProvider<ChannelAuthorizer> authorizer,
      ObjectProvider<MeterRegistry> meterRegistry,
      ObjectProvider<HeraldBuilderCustomizer> customizers) {
    Herald.Builder builder = Herald.builder(config);
    Authenticator a = authenticator.getIfUnique();
    if (a != null) {
      builder.authenticator(a);
    }
    authorizer.ifUnique(builder::authorizer);
    if (config.metrics().enabled()) {
      meterRegistry.ifUnique(builder::meterRegistry);
    }
    customizers.orderedStream().forEach(c -> c.customize(builder));
    Herald herald = builder.build();
    if (a instanceof SpringSessionAuthenticator sessions) {
      sessions.attach(herald);
    }
    herald.start().join();
    return herald;
  }

  @Bean
  @ConditionalOnMissingBean
  public HeraldPublisher heraldPublisher(Herald herald) {
    return new HeraldPublisher(herald);
  }

  /** Connections authenticated by the servlet session's Spring Security context. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass(
      name = {
        "org.springframework.security.web.context.HttpSessionSecurityContextRepository",
        "jakarta.servlet.http.HttpSessionListener"
      })
  @ConditionalOnProperty(
      prefix = "herald.session",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class SessionAuthentication {
    @Bean
    @ConditionalOnMissingBean(Authenticator.class)
    SpringSessionAuthenticator heraldSessionAuthenticator(HeraldProperties properties) {
      return new SpringSessionAuthenticator(
          properties.getSession().getCookieName(), properties.getSession().isDisconnectOnEnd());
    }
  }

  /** Herald in {@code /actuator/health} as the component {@code herald}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {
        "org.springframework.boot.actuate.health.HealthIndicator",
        "org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator"
      })
  @ConditionalOnEnabledHealthIndicator("herald")
  static class HealthContribution {
    @Bean
    @ConditionalOnMissingBean
    HeraldHealthIndicator heraldHealthIndicator(Herald herald) {
      return new HeraldHealthIndicator(herald);
    }
  }
}
