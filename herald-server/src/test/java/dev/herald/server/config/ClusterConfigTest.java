package dev.herald.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {

  @Test
  void aSingleInProcessNodeByDefault() {
    HeraldConfig c = HeraldConfig.defaults();
    assertThat(c.cluster().redis()).isFalse();
    assertThat(c.cluster().redisUrl()).isEqualTo("redis://127.0.0.1:6379");
    assertThat(c.cluster().redisPrefix()).isEqualTo("herald");
    assertThat(c.cluster().presenceTtl()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.hub().drain().batchSize()).isEqualTo(1000);
    assertThat(c.hub().drain().interval()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void redisSettingsFromFileAndEnvironment() {
    HeraldConfig c =
        ConfigLoader.fromMap(
            Map.of(
                "broker.type", "redis",
                "redis.url", "redis://redis.internal:6380/2",
                "redis.presence-ttl", "10s",
                "shutdown.batch-size", "200"),
            Map.of(
                "HERALD_REDIS_PREFIX", "blue",
                "HERALD_CLUSTER_ADVERTISE_URL", "http://10.0.0.5:8080",
                "HERALD_SHUTDOWN_BATCH_INTERVAL", "50ms"));
    ClusterSettings s = c.cluster();
    assertThat(s.redis()).isTrue();
    assertThat(s.redisUrl()).isEqualTo("redis://redis.internal:6380/2");
    assertThat(s.redisPrefix()).isEqualTo("blue");
    assertThat(s.presenceTtl()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.advertiseUrl()).isEqualTo("http://10.0.0.5:8080");
    assertThat(c.hub().drain().batchSize()).isEqualTo(200);
    assertThat(c.hub().drain().interval()).isEqualTo(Duration.ofMillis(50));
  }

  @Test
  void badClusterSettingsAreAllReported() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.fromMap(
                    Map.of(
                        "broker.type", "kafka",
                        "redis.url", "localhost:6379",
                        "redis.prefix", "a b",
                        "redis.presence-ttl", "200ms",
                        "redis.reconnect-min", "10s",
                        "redis.reconnect-max", "1s",
                        "cluster.advertise-url", "10.0.0.5:8080",
                        "shutdown.batch-size", "0"),
                    Map.of()));
    assertThat(e.getMessage())
        .contains("broker.type: 'kafka' is not memory or redis")
        .contains("redis.url: 'localhost:6379'")
        .contains("redis.prefix: 'a b'")
        .contains("redis.presence-ttl: must be at least 1s")
        .contains("redis.reconnect-max must be >= redis.reconnect-min")
        .contains("cluster.advertise-url: '10.0.0.5:8080'")
        .contains("shutdown.batch-size: '0'");
  }

  @Test
  void aPasswordInTheRedisUrlIsMaskedWhenPrinted() {
    Map<String, String> shown =
        ConfigLoader.describe(
            Map.of("redis.url", "redis://app:s3cret@redis.internal:6379"), Map.of(), true);
    assertThat(shown.get("redis.url"))
        .isEqualTo("redis://****@redis.internal:6379")
        .doesNotContain("s3cret");
  }

  @Test
  void sentinelModeTakesTheSentinelsAndTheMasterName() {
    HeraldConfig c =
        ConfigLoader.fromMap(
            Map.of(
                "broker.type", "redis",
                "redis.mode", "sentinel",
                "redis.sentinels", "redis://10.0.0.7:26379, redis://10.0.0.8:26379",
                "redis.master-name", "herald"),
            Map.of());
    ClusterSettings s = c.cluster();
    assertThat(s.sentinel()).isTrue();
    assertThat(s.sentinels()).containsExactly("redis://10.0.0.7:26379", "redis://10.0.0.8:26379");
    assertThat(s.masterName()).isEqualTo("herald");
    assertThat(HeraldConfig.defaults().cluster().sentinel()).isFalse();
  }

  @Test
  void badSentinelSettingsAreReported() {
    assertThat(
            problems(
                Map.of(
                    "redis.mode", "sentinel",
                    "redis.sentinels", "10.0.0.7:26379",
                    "redis.master-name", "")))
        .contains("redis.sentinels: '10.0.0.7:26379' is not a URL like redis://host:26379")
        .contains("redis.master-name: ''");
    assertThat(
            problems(
                Map.of(
                    "redis.mode", "sentinel",
                    "redis.sentinels", "redis://10.0.0.7:26379/2",
                    "redis.master-name", "herald")))
        .contains("redis.sentinels: 'redis://10.0.0.7:26379/2' is not a URL")
        .contains("a sentinel has no database numbers");
    assertThat(problems(Map.of("redis.master-name", "herald")))
        .contains("redis.master-name: set, but redis.mode is standalone (set it to sentinel)");
    assertThat(problems(Map.of("redis.mode", "sentinel")))
        .contains("redis.mode sentinel needs the sentinels' URLs");
    assertThat(problems(Map.of("redis.sentinels", "redis://10.0.0.7:26379")))
        .contains("redis.sentinels: set, but redis.mode is standalone");
    assertThat(problems(Map.of("redis.mode", "ring")))
        .contains("redis.mode: 'ring' is not standalone, sentinel or cluster");
  }

  @Test
  void clusterModeTakesTheClusterNodes() {
    HeraldConfig c =
        ConfigLoader.fromMap(
            Map.of(
                "broker.type", "redis",
                "redis.mode", "cluster",
                "redis.cluster-nodes", "redis://10.0.0.7:7000, redis://:s3cret@10.0.0.8:7000/0"),
            Map.of());
    ClusterSettings s = c.cluster();
    assertThat(s.redisCluster()).isTrue();
    assertThat(s.sentinel()).isFalse();
    assertThat(s.clusterNodes())
        .containsExactly("redis://10.0.0.7:7000", "redis://:s3cret@10.0.0.8:7000/0");
    assertThat(HeraldConfig.defaults().cluster().redisCluster()).isFalse();
  }

  @Test
  void badClusterSettingsAreReported() {
    assertThat(problems(Map.of("redis.mode", "cluster")))
        .contains("redis.cluster-nodes: redis.mode cluster needs the URLs");
    assertThat(
            problems(
                Map.of(
                    "redis.mode", "cluster",
                    "redis.cluster-nodes", "10.0.0.7:7000,redis://:s3cret@10.0.0.8:7000/2")))
        .contains("redis.cluster-nodes: '10.0.0.7:7000' is not a URL like redis://host:7000")
        .contains("'redis://****@10.0.0.8:7000/2' is not a URL")
        .contains("no database numbers")
        .doesNotContain("s3cret");
    assertThat(problems(Map.of("redis.cluster-nodes", "redis://10.0.0.7:7000")))
        .contains("redis.cluster-nodes: set, but redis.mode is standalone");
    assertThat(
            problems(
                Map.of(
                    "redis.mode", "cluster",
                    "redis.cluster-nodes", "redis://10.0.0.7:7000",
                    "redis.sentinels", "redis://10.0.0.7:26379")))
        .contains("redis.sentinels: set, but redis.mode is cluster");
  }

  /** The message of the configuration error these settings make. */
  private static String problems(Map<String, String> file) {
    return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.fromMap(file, Map.of()))
        .getMessage();
  }

  @Test
  void passwordsInSentinelUrlsAreMaskedWhenPrinted() {
    Map<String, String> shown =
        ConfigLoader.describe(
            Map.of("redis.sentinels", "redis://:s3cret@10.0.0.7:26379,redis://:s3cret@h2:26379"),
            Map.of(),
            true);
    assertThat(shown.get("redis.sentinels"))
        .isEqualTo("redis://****@10.0.0.7:26379,redis://****@h2:26379");
  }
}
