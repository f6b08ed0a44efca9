package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClusterSlotsTest {

  @Test
  void slotsAreTheOnesRedisClusterComputes() {
    // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
    assertThat(ClusterSlots.crc16("123456789".getBytes(), 0, 9)).isEqualTo(0x31C3);
    assertThat(ClusterSlots.slot("foo")).isEqualTo(12182);
    assertThat(ClusterSlots.slot("123456789")).isEqualTo(12739);
  }

  @Test
  void onlyTheFirstNonEmptyHashTagIsHashed() {
    assertThat(ClusterSlots.slot("{user1000}.following"))
        .isEqualTo(ClusterSlots.slot("{user1000}.followers"))
        .isEqualTo(ClusterSlots.slot("user1000"));
    assertThat(ClusterSlots.slot("foo{bar}{zap}")).isEqualTo(ClusterSlots.slot("bar"));
    assertThat(ClusterSlots.slot("foo{{bar}}zap")).isEqualTo(ClusterSlots.slot("{bar"));
    // An empty tag does not count: the whole key is hashed.
    assertThat(ClusterSlots.slot("foo{}{bar}")).isNotEqualTo(ClusterSlots.slot("bar"));
    assertThat(ClusterSlots.slot("foo{}{bar}"))
        .isEqualTo(ClusterSlots.crc16("foo{}{bar}".getBytes(), 0, 10) & 16383);
  }

  @Test
  void everyKeyOfAChannelSharesOneSlot() {
    RedisSettings s = RedisSettings.of("redis://127.0.0.1:6379", "n1");
    for (String channel : new String[] {"room", "a}b", "{x}", "project:42", "é"}) {
      int slot = ClusterSlots.slot(s.key(channel, "m"));
      for (String suffix : new String[] {"h", "pz", "pd", "i:some-key"}) {
        assertThat(ClusterSlots.slot(s.key(channel, suffix))).as(channel).isEqualTo(slot);
      }
    }
  }

  @Test
  void anIpv6MasterIsAddressedInBrackets() {
    assertThat(ClusterSlots.Topology.address("10.0.0.8", 7001)).isEqualTo("10.0.0.8:7001");
    assertThat(ClusterSlots.Topology.address("fd00::8", 7001)).isEqualTo("[fd00::8]:7001");
    assertThat(
            ClusterConnector.serverUrl(
                "redis://10.0.0.7:7000", ClusterSlots.Topology.address("fd00::8", 7001)))
        .isEqualTo("redis://[fd00::8]:7001");
  }

  @Test
  void aPrefixWithBracesIsRefused() {
    RedisSettings s = RedisSettings.of("redis://127.0.0.1:6379", "n1");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.withPrefix("a{b}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("{ or }");
    assertThat(s.withPresenceTtl(Duration.ofSeconds(5)).cluster()).isFalse();
  }
}
