package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class ClusterConnectorTest {

  @Test
  void aMovedAnswerIsToldFromAConnectionFailure() {
    Throwable moved =
        new CompletionException(
            RedisConnector.unavailable(new IllegalStateException("MOVED 3999 10.0.0.7:7001")));
    assertThat(ClusterConnector.errorReply(moved)).isEqualTo("MOVED 3999 10.0.0.7:7001");
    assertThat(ClusterConnector.errorReply(RedisConnector.unavailable(new IOException("reset"))))
        .isNull();
    assertThat(ClusterConnector.errorReply(RedisConnector.unavailable(null))).isNull();
  }

  @Test
  void mastersAreReachedWithTheSchemeAndCredentialsOfTheFirstNode() {
    assertThat(ClusterConnector.serverUrl("redis://10.0.0.7:7000", "10.0.0.8:7001"))
        .isEqualTo("redis://10.0.0.8:7001");
    assertThat(ClusterConnector.serverUrl("rediss://app:s3cret@10.0.0.7:7000/0", "10.0.0.8:7001"))
        .isEqualTo("rediss://app:s3cret@10.0.0.8:7001");
  }
}
