package dev.herald.core.channel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class ChannelNameTest {

  @Test
  void namespaceIsThePartBeforeTheFirstColon() {
    ChannelName c = ChannelName.parse("project:42").orElseThrow();
    assertThat(c.value()).isEqualTo("project:42");
    assertThat(c.namespace()).isEqualTo("project");
    assertThat(c.firstSegment()).isEqualTo("42");
    assertThat(c.toString()).isEqualTo("project:42");
  }

  @Test
  void firstSegmentStopsAtTheNextColon() {
    ChannelName c = ChannelName.parse("user:alice:notifications").orElseThrow();
    assertThat(c.namespace()).isEqualTo("user");
    assertThat(c.firstSegment()).isEqualTo("alice");
  }

  @Test
  void nameWithoutColonIsInTheDefaultNamespace() {
    ChannelName c = ChannelName.parse("lobby").orElseThrow();
    assertThat(c.namespace()).isEmpty();
    assertThat(c.firstSegment()).isEqualTo("lobby");
  }

  @Test
  void everyAllowedCharacterIsAccepted() {
    String all = "AZaz09_-:.@=/";
    assertThat(ChannelName.parse(all)).isPresent();
    assertThat(ChannelName.parse("ns:a.b@c=d/e_f-g:h")).map(ChannelName::namespace).contains("ns");
  }

  @Test
  void lengthIsLimitedTo255() {
    assertThat(ChannelName.parse("a")).isPresent();
    assertThat(ChannelName.parse("a".repeat(ChannelName.MAX_LENGTH))).isPresent();
    assertThat(ChannelName.parse("a".repeat(ChannelName.MAX_LENGTH + 1))).isEmpty();
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(
      strings = {
        "with space",
        "tab\tchannel",
        "new\nline",
        "semi;colon",
        "hash#",
        "q?",
        "star*",
        "comma,",
        "quote\"",
        "back\\slash",
        "caf\u00e9",
        "emoji\ud83d\ude00",
        "plus+",
        "percent%",
        ":leading",
        "trailing:",
        ":"
      })
  void invalidNamesAreRefused(String name) {
    assertThat(ChannelName.parse(name)).isEmpty();
  }

  @Test
  void emptySegmentAfterNamespaceNeverMatchesAUser() {
    Optional<ChannelName> c = ChannelName.parse("user::x");
    assertThat(c).isPresent();
    assertThat(c.get().namespace()).isEqualTo("user");
    assertThat(c.get().firstSegment()).isEmpty();
  }
}
