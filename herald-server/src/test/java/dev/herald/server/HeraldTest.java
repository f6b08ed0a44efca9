package dev.herald.server;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.server.config.HeraldConfig;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class HeraldTest {
  @Test
  void beforeStartTheServerSaysItIsNotStartedInsteadOfFailingOnNull() {
    Herald herald =
        Herald.builder(HeraldConfig.defaults())
            .authenticator(request -> CompletableFuture.failedFuture(new IllegalStateException()))
            .build();

    assertThatThrownBy(herald::port)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("not started");
    assertThatThrownBy(herald::hub)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("not started");
    assertThatThrownBy(herald::diagnostics)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("not started");
    assertThatThrownBy(herald::readiness)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("not started");
    assertThatThrownBy(() -> herald.publish("demo:lobby", "{}"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("not started");
  }
}
