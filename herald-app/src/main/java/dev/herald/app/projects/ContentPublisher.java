package dev.herald.app.projects;

import java.util.List;
import java.util.Set;

/**
 * Publishes content versions to the live site. The reference app has no real content store, so the
 * default publishes everything; an integration supplies its own, and tests use one that fails.
 */
@FunctionalInterface
public interface ContentPublisher {
  /** Publishes the items; returns the ids of those that failed. */
  Set<Long> publish(List<ProjectItem> items);

  static ContentPublisher alwaysSucceeds() {
    return items -> Set.of();
  }
}
