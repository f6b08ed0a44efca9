package dev.herald.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class OriginPolicyTest {
  @Test
  void sameOriginIsAllowedOthersOnlyWhenListed() {
    OriginPolicy p = new OriginPolicy(List.of("https://cms.example.com"));
    assertThat(p.allows("http://localhost:8080", "localhost:8080")).isTrue();
    assertThat(p.allows("https://herald.example.com", "herald.example.com")).isTrue();
    assertThat(p.allows("https://cms.example.com/", "herald.example.com")).isTrue();
    assertThat(p.allows("https://evil.example", "herald.example.com")).isFalse();
    assertThat(p.allows("http://localhost:9999", "localhost:8080")).isFalse();
    assertThat(p.allows("null", "localhost:8080")).isFalse();
  }

  @Test
  void missingOriginIsANonBrowserClient() {
    assertThat(new OriginPolicy(List.of()).allows(null, "localhost:8080")).isTrue();
  }

  @Test
  void wildcardAllowsAny() {
    assertThat(new OriginPolicy(List.of("*")).allows("https://anything.example", "h")).isTrue();
  }
}
