package dev.herald.app.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CsrfCheckTest {
  @Test
  void onlyTheExactTokenMatches() {
    String token = "Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWo";
    assertThat(ApiRouter.csrfMatches(token, token)).isTrue();
    assertThat(ApiRouter.csrfMatches(token, null)).isFalse();
    assertThat(ApiRouter.csrfMatches(token, "")).isFalse();
    assertThat(ApiRouter.csrfMatches(token, token.substring(1))).isFalse();
    assertThat(ApiRouter.csrfMatches(token, token + "x")).isFalse();
    assertThat(ApiRouter.csrfMatches(token, token.toLowerCase())).isFalse();
  }
}
