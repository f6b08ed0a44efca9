package dev.herald.server.doctor;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The doctor's findings: one result per probe, a verdict and the exit code.
 *
 * @param url the URL examined
 * @param results info, websocket, sse and long-polling, in that order, then module when the origin
 *     examined is not the site's own
 * @param verdict one sentence on what clients will experience
 * @param exitCode 0 when WebSocket works, 1 when Herald is reachable only through a fallback (or a
 *     page on the other origin cannot import the module), 2 when no transport works
 */
public record Report(String url, List<ProbeResult> results, String verdict, int exitCode) {
  public Report {
    results = List.copyOf(results);
  }

  /** The result of one probe, by name. */
  public ProbeResult result(String probe) {
    return results.stream()
        .filter(r -> r.probe().equals(probe))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no probe " + probe));
  }

  /**
   * The report as printed: one line per probe (status, probe, finding), its fixes indented below. A
   * fix already printed for an earlier probe is not repeated: "as above" stands where the first of
   * them would be, so the fixes keep their order ("or, if that cannot be raised..." follows it).
   */
  public String render() {
    StringBuilder b = new StringBuilder();
    b.append("Herald doctor: ").append(url).append('\n');
    Set<String> printed = new HashSet<>();
    for (ProbeResult r : results) {
      b.append(String.format("%-5s %-13s %s\n", r.status(), r.probe(), r.finding()));
      boolean referred = false;
      boolean fresh = false;
      for (String fix : r.fixes()) {
        if (printed.add(fix)) {
          b.append(String.format("%-19s fix: %s\n", "", fix));
          fresh = true;
        } else if (!referred) {
          b.append(
              String.format("%-19s fix: %s\n", "", fresh ? "and the fixes above" : "as above"));
          referred = true;
        }
      }
    }
    b.append("Verdict: ").append(verdict).append(" (exit code ").append(exitCode).append(")\n");
    return b.toString();
  }
}
