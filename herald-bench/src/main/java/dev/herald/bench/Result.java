package dev.herald.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One measured run of one server in one scenario. */
final class Result {
  final String scenario;
  final String label;
  final int rep;
  final Map<String, Double> metrics = new LinkedHashMap<>();
  final List<String> flags = new ArrayList<>();
  @Nullable String note;

  Result(String scenario, String label, int rep) {
    this.scenario = scenario;
    this.label = label;
    this.rep = rep;
  }

  Result put(String key, double value) {
    metrics.put(key, value);
    return this;
  }

  double get(String key) {
    return metrics.getOrDefault(key, Double.NaN);
  }

  void flag(String flag) {
    if (!flags.contains(flag)) {
      flags.add(flag);
    }
  }
}
