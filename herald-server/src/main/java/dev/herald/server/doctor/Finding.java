package dev.herald.server.doctor;

import java.util.List;

/**
 * An explanation: what was observed and what it means, and the fixes.
 *
 * @param connectionLevel the server could not be reached at all (DNS, TCP, TLS): the other probes
 *     would fail the same way
 */
record Finding(String text, List<String> fixes, boolean connectionLevel) {
  Finding {
    fixes = List.copyOf(fixes);
  }

  Finding(String text, List<String> fixes) {
    this(text, fixes, false);
  }

  Finding(String text) {
    this(text, List.of(), false);
  }
}
