package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.client.HeraldClient;
import dev.herald.client.SubscriptionHandler;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import dev.herald.server.Herald;
import example.EmbeddedHerald;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * docs/embedding.md's complete example is {@code example/EmbeddedHerald.java}, word for word: the
 * build compiles it, runs it, and fails when the doc and the file differ.
 */
class EmbeddingGuideIT {
  static final Path EXAMPLE = Path.of("src/test/java/example/EmbeddedHerald.java");
  static final Path GUIDE = Path.of("../docs/embedding.md");

  @Test
  void theExampleDeliversAPublicationFromCodeToTheJavaClient() throws Exception {
    assertThat(EmbeddedHerald.run()).isEqualTo("{\"item\":7,\"status\":\"ready\"}");
  }

  @Test
  void theExamplesAuthorizerRefusesANonMember() throws Exception {
    Herald herald = EmbeddedHerald.build();
    herald.start().join();
    URI url = URI.create("ws://127.0.0.1:" + herald.port() + "/connection/websocket");
    HeraldClient bob = HeraldClient.builder(url).header("Cookie", "SESSION=s-77b0e2").build();
    try {
      assertThat(bob.connect().get(10, TimeUnit.SECONDS).user()).isEqualTo("bob");
      CompletableFuture<ErrorInfo> refused = new CompletableFuture<>();
      bob.subscribe(
          "project:42",
          new SubscriptionHandler() {
            @Override
            public void onPublication(dev.herald.protocol.ServerMessage.Pub pub) {
              refused.completeExceptionally(new AssertionError("bob got " + pub));
            }

            @Override
            public void onError(ErrorInfo error) {
              refused.complete(error);
            }
          });
      assertThat(refused.get(10, TimeUnit.SECONDS).code()).isEqualTo(103);
    } finally {
      bob.close();
      herald.stop(Duration.ofSeconds(1)).join();
    }
  }

  @Test
  void theGuideShowsExactlyTheCompiledExample() throws Exception {
    String code = Files.readString(EXAMPLE, StandardCharsets.UTF_8);
    String guide = Files.readString(GUIDE, StandardCharsets.UTF_8);
    assertThat(guide)
        .as("docs/embedding.md must contain %s verbatim in a ```java block", EXAMPLE)
        .contains("```java\n" + code + "```\n");
  }
}
