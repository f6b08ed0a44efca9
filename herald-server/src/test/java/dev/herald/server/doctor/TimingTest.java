package dev.herald.server.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.server.doctor.Explain.Proxy;
import dev.herald.server.doctor.IdleOutcome.Counts;
import dev.herald.server.doctor.Timing.IdleVerdict;
import dev.herald.server.doctor.Timing.ServerTiming;
import dev.herald.server.doctor.Wire.Head;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The decisions the doctor takes from what it measured (pure logic; the real proxies are in {@code
 * NginxIT} and {@code HAProxyIT}).
 */
class TimingTest {
  private static final ServerTiming DEFAULTS = new ServerTiming(25_000, true, 25_000);
  private static final Head NGINX =
      new Head("HTTP/1.1", 200, "OK", List.of(Map.entry("Server", "nginx/1.22.1")));
  private static final Head ANONYMOUS = new Head("HTTP/1.1", 200, "OK", List.of());

  @Test
  void theMedianLagDecidesSoOneSlowMomentDoesNot() {
    EventDelay healthy =
        new EventDelay(List.of(0L, 1L, 250L, 2L, 1L), List.of(5L, 6L, 260L, 5L, 6L));
    assertThat(healthy.medianLag()).isEqualTo(1);
    assertThat(healthy.delayed()).isFalse();
    EventDelay merged =
        new EventDelay(List.of(201L, 204L, 0L, 199L, 210L), List.of(210L, 215L, 9L, 208L, 222L));
    assertThat(merged.medianLag()).isEqualTo(201);
    assertThat(merged.medianRoundTrip()).isEqualTo(210);
    assertThat(merged.delayed()).isTrue();
    assertThatThrownBy(() -> new EventDelay(List.of(), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void delayedEventsNameWriteMergingAndTheNoDelayDirectives() {
    EventDelay d = new EventDelay(List.of(204L, 203L, 205L), List.of(214L, 213L, 215L));
    Finding f = Timing.delayed(ANONYMOUS, "Stream opened.", d);
    assertThat(f.text()).startsWith("Stream opened.").contains("204 ms late", "Nagle-like");
    assertThat(f.fixes())
        .anySatisfy(x -> assertThat(x).contains("for HAProxy: option http-no-delay"))
        .anySatisfy(x -> assertThat(x).contains("for nginx: proxy_buffering off;"));
    assertThat(Timing.delayed(NGINX, "", d).fixes()).singleElement().asString().contains("nginx");
  }

  @Test
  void aStreamBufferedAndThenCutNamesTheBufferingTheIgnoredHeaderAndTheTimeout() {
    Finding cut = Timing.streamLost(NGINX, 3015, 3016, DEFAULTS);
    assertThat(cut.text())
        .contains("response buffering", "read timeout", "proxy_ignore_headers X-Accel-Buffering");
    assertThat(cut.fixes())
        .anySatisfy(
            f ->
                assertThat(f)
                    .contains(
                        "proxy_buffering off;",
                        "remove X-Accel-Buffering from proxy_ignore_headers"))
        .anySatisfy(f -> assertThat(f).contains("proxy_read_timeout 75s;"));
    // Ended at once: no timeout to blame.
    Finding ended = Timing.streamLost(NGINX, 20, 30, DEFAULTS);
    assertThat(ended.text()).doesNotContain("read timeout");
    assertThat(ended.fixes()).anySatisfy(f -> assertThat(f).contains("error log"));
  }

  @Test
  void anIdleCutBeforeTheHeartbeatIsAProblemWithTheDirectiveOfTheProxyThatCut() {
    IdleOutcome cut = IdleOutcome.cut(2_000, 2_000, Counts.NONE, null, "", "closed");
    ServerTiming sixSeconds = new ServerTiming(6_000, true, 25_000);
    IdleVerdict ws = Timing.idle(Doctor.WEBSOCKET, cut, Proxy.HAPROXY, sixSeconds, 5_000, true);
    assertThat(ws.problem()).isTrue();
    assertThat(ws.text()).contains("cut after 2.0 s", "6.0 s (heartbeat.interval)");
    assertThat(ws.fixes())
        .anySatisfy(f -> assertThat(f).contains("for HAProxy: timeout tunnel"))
        .anySatisfy(f -> assertThat(f).contains("heartbeat.interval=1s"));
    IdleVerdict sse = Timing.idle(Doctor.SSE, cut, Proxy.NGINX, sixSeconds, 5_000, true);
    assertThat(sse.fixes()).anySatisfy(f -> assertThat(f).contains("proxy_read_timeout"));

    // Cut only after the heartbeat: Herald's pings keep connected clients' connections busy.
    IdleOutcome late = IdleOutcome.cut(30_000, 30_000, Counts.NONE, null, "", "closed");
    IdleVerdict fine = Timing.idle(Doctor.WEBSOCKET, late, Proxy.NGINX, DEFAULTS, 40_000, false);
    assertThat(fine.problem()).isFalse();
    assertThat(fine.fixes()).isEmpty();
  }

  @Test
  void aHeldPollCutWith504NamesTheHoldAndTheReadTimeout() {
    Head gatewayTimeout =
        new Head("HTTP/1.1", 504, "Gateway Time-out", List.of(Map.entry("Server", "nginx")));
    IdleOutcome cut = IdleOutcome.cut(3_000, 3_000, Counts.NONE, gatewayTimeout, "", "proxy");
    IdleVerdict v = Timing.idle(Doctor.LONG_POLLING, cut, Proxy.NGINX, DEFAULTS, 5_000, false);
    assertThat(v.problem()).isTrue();
    assertThat(v.text()).contains("504", "25.0 s (longpoll.timeout)");
    assertThat(v.fixes())
        .anySatisfy(f -> assertThat(f).contains("for nginx: proxy_read_timeout 75s;"))
        .anySatisfy(f -> assertThat(f).contains("longpoll.timeout=2s"));
    // HAProxy names itself only in its error page.
    Head bare = new Head("HTTP/1.1", 504, "Gateway Time-out", List.of());
    assertThat(
            Explain.proxy(
                bare, "<h1>504 Gateway Time-out</h1>\nThe server didn't respond in time."))
        .isEqualTo(Proxy.HAPROXY);
    assertThat(Explain.proxy(bare, "")).isEqualTo(Proxy.UNKNOWN);
  }

  @Test
  void aPollAnsweredByHeraldAfterItsHoldIsFine() {
    IdleOutcome held = IdleOutcome.held(5_000, Counts.NONE.emptyPoll(1_000).emptyPoll(1_002));
    IdleVerdict v = Timing.idle(Doctor.LONG_POLLING, held, Proxy.NGINX, DEFAULTS, 5_000, false);
    assertThat(v.problem()).isFalse();
    assertThat(v.text()).contains("held up to 1.0 s", "came back 204");
  }

  @Test
  void aFixPrintedForAnEarlierProbeIsReferredToWhereItStood() {
    String raise = "for nginx: proxy_read_timeout 75s;";
    Report r =
        new Report(
            "http://x/",
            List.of(
                new ProbeResult("websocket", ProbeResult.Status.WARN, "cut", List.of(raise, "a")),
                new ProbeResult("sse", ProbeResult.Status.WARN, "cut", List.of(raise, "b")),
                new ProbeResult(
                    "long-polling", ProbeResult.Status.WARN, "cut", List.of("c", raise))),
            "v",
            0);
    assertThat(r.render().lines().map(String::strip).filter(l -> l.startsWith("fix:")))
        .containsExactly(
            "fix: " + raise,
            "fix: a",
            "fix: as above",
            "fix: b",
            "fix: c",
            "fix: and the fixes above");
  }

  @Test
  void idleTimesAreParsedWithUnitsOrAsSeconds() {
    assertThat(Doctor.Options.parseIdle("60")).isEqualTo(Duration.ofSeconds(60));
    assertThat(Doctor.Options.parseIdle("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Doctor.Options.parseIdle("0")).isZero();
    assertThatThrownBy(() -> Doctor.Options.parseIdle("soon"))
        .hasMessageContaining("--idle needs a duration");
    assertThatThrownBy(() -> Doctor.Options.parseIdle("2h")).hasMessageContaining("at most 1 h");
    assertThatThrownBy(() -> Doctor.Options.defaults().withIdle(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Doctor.Options.defaults().withToken("secret").toString())
        .doesNotContain("secret")
        .contains("token=(given)");
  }
}
