package dev.herald.core.broker;

import java.util.Objects;

/**
 * A server API question for every node of the cluster (list a user's connections, disconnect one,
 * count channel subscribers...). The bus carries it as is; the hub decides what kinds exist and
 * what the body and answers mean.
 *
 * @param id unique per question; answers carry it back to the asking node
 * @param kind what is asked, e.g. {@code connections}
 * @param body the question's arguments, a JSON object
 */
public record ControlQuery(String id, String kind, String body) {
  public ControlQuery {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(body, "body");
  }
}
