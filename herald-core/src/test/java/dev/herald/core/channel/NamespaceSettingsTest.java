package dev.herald.core.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class NamespaceSettingsTest {

  @Test
  void builderHasProductionDefaults() {
    NamespaceSettings ns = NamespaceSettings.builder("project").build();
    assertThat(ns.name()).isEqualTo("project");
    assertThat(ns.historySize()).isEqualTo(1000);
    assertThat(ns.historyTtl()).isEqualTo(Duration.ofMinutes(10));
    assertThat(ns.streamTtl()).isEqualTo(Duration.ofHours(24));
    assertThat(ns.presence()).isTrue();
    assertThat(ns.joinLeave()).isTrue();
    assertThat(ns.clientPublish()).isFalse();
    assertThat(ns.personal()).isFalse();
  }

  @Test
  void toBuilderRoundTrips() {
    NamespaceSettings ns =
        NamespaceSettings.builder("x")
            .historySize(5)
            .historyTtl(Duration.ofSeconds(30))
            .streamTtl(Duration.ofMinutes(1))
            .presence(false)
            .joinLeave(false)
            .clientPublish(true)
            .personal(true)
            .build();
    assertThat(ns.toBuilder().build()).isEqualTo(ns);
    assertThat(ns.toBuilder().historySize(6).build().historySize()).isEqualTo(6);
  }

  @Test
  void zeroHistoryAndEqualTtlsAreValid() {
    NamespaceSettings ns =
        NamespaceSettings.builder("n")
            .historySize(0)
            .historyTtl(Duration.ZERO)
            .streamTtl(Duration.ZERO)
            .build();
    assertThat(ns.historySize()).isZero();
    NamespaceSettings eq =
        NamespaceSettings.builder("e")
            .historyTtl(Duration.ofMinutes(1))
            .streamTtl(Duration.ofMinutes(1))
            .build();
    assertThat(eq.streamTtl()).isEqualTo(eq.historyTtl());
  }

  @Test
  void negativeHistorySizeIsRefused() {
    assertThatThrownBy(() -> NamespaceSettings.builder("n").historySize(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("historySize");
  }

  @Test
  void negativeHistoryTtlIsRefused() {
    assertThatThrownBy(
            () -> NamespaceSettings.builder("n").historyTtl(Duration.ofSeconds(-1)).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void streamTtlShorterThanHistoryTtlIsRefused() {
    assertThatThrownBy(
            () ->
                NamespaceSettings.builder("n")
                    .historyTtl(Duration.ofMinutes(10))
                    .streamTtl(Duration.ofMinutes(5))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("streamTtl");
  }

  @Test
  void nullsAreRefused() {
    assertThatThrownBy(() -> NamespaceSettings.builder(null).build())
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> NamespaceSettings.builder("n").historyTtl(null).build())
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> NamespaceSettings.builder("n").streamTtl(null).build())
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void namespacesRefuseDuplicatesAndFindByChannel() {
    NamespaceSettings a = NamespaceSettings.builder("a").build();
    NamespaceSettings dflt = NamespaceSettings.builder("").build();
    assertThatThrownBy(
            () -> new Namespaces(List.of(a, NamespaceSettings.builder("a").historySize(1).build())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a'");

    Namespaces ns = new Namespaces(List.of(a, dflt));
    assertThat(ns.find(ChannelName.parse("a:1").orElseThrow())).contains(a);
    assertThat(ns.find(ChannelName.parse("lobby").orElseThrow())).contains(dflt);
    assertThat(ns.find(ChannelName.parse("b:1").orElseThrow())).isEmpty();
    assertThat(ns.find("a")).contains(a);
    assertThat(ns.all()).containsExactlyInAnyOrder(a, dflt);
  }
}
