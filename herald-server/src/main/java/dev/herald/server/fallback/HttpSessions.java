package dev.herald.server.fallback;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** This node's HTTP-carried sessions by id. */
final class HttpSessions {
  private final String node;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, HttpSession> byId = new ConcurrentHashMap<>();

  HttpSessions(String node) {
    this.node = node;
  }

  /** A fresh id: the node name and 128 random bits. */
  String newId() {
    byte[] b = new byte[16];
    random.nextBytes(b);
    return node + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  void put(HttpSession s) {
    byId.put(s.id(), s);
  }

  Optional<HttpSession> find(String id) {
    return id == null ? Optional.empty() : Optional.ofNullable(byId.get(id));
  }

  void remove(String id) {
    byId.remove(id);
  }

  int size() {
    return byId.size();
  }
}
