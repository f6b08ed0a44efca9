package dev.herald.spring;

import dev.herald.server.Herald;

/**
 * A bean of this type adjusts the server before it is built: routes of its own, readiness checks, a
 * broker. The authenticator and the authorizer are beans of their own ({@code Authenticator},
 * {@code ChannelAuthorizer}).
 */
@FunctionalInterface
public interface HeraldBuilderCustomizer {
  void customize(Herald.Builder builder);
}
