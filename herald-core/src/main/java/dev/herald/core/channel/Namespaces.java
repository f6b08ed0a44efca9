package dev.herald.core.channel;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The configured namespaces. Channels in a namespace not listed here are refused. */
public final class Namespaces {
  private final Map<String, NamespaceSettings> byName;

  public Namespaces(Collection<NamespaceSettings> settings) {
    Map<String, NamespaceSettings> m = new LinkedHashMap<>();
    for (NamespaceSettings s : settings) {
      if (m.put(s.name(), s) != null) {
        throw new IllegalArgumentException("namespace '" + s.name() + "' configured twice");
      }
    }
    this.byName = Map.copyOf(m);
  }

  public Optional<NamespaceSettings> find(ChannelName channel) {
    return Optional.ofNullable(byName.get(channel.namespace()));
  }

  public Optional<NamespaceSettings> find(String namespace) {
    return Optional.ofNullable(byName.get(namespace));
  }

  public Collection<NamespaceSettings> all() {
    return byName.values();
  }
}
