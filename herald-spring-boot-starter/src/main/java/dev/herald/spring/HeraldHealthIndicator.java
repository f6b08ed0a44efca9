package dev.herald.spring;

import dev.herald.server.Herald;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * Herald in Actuator's health ({@code /actuator/health}, component {@code herald}): UP while Herald
 * is ready (its {@code /health/ready}), OUT_OF_SERVICE while it drains at shutdown, DOWN when the
 * broker or a readiness check is down; the details give each check and the connection counts.
 */
public class HeraldHealthIndicator extends AbstractHealthIndicator {
  private final Herald herald;

  public HeraldHealthIndicator(Herald herald) {
    super("Herald health check failed");
    this.herald = herald;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    Herald.Readiness r = herald.readiness();
    if (r.draining()) {
      builder.outOfService();
    } else if (r.ready()) {
      builder.up();
    } else {
      builder.down();
    }
    r.checks().forEach((name, up) -> builder.withDetail(name, up ? "up" : "down"));
    builder
        .withDetail("port", herald.port())
        .withDetail("sessions", herald.hub().stats().sessions())
        .withDetail("subscriptions", herald.hub().stats().subscriptions());
  }
}
