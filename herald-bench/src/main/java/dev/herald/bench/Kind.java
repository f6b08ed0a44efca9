package dev.herald.bench;

/** What a load connection speaks. */
enum Kind {
  /** The raw Netty floor: a bare WebSocket that receives broadcasts. */
  FLOOR_WS("ws"),
  /** Herald over WebSocket: connect with a JWT, subscribe, receive pubs. */
  HERALD_WS("websocket"),
  /** Herald over Server-Sent Events; commands go as POSTs. */
  HERALD_SSE("sse"),
  /** Herald over long-polling; commands go as POSTs. */
  HERALD_POLL("long-polling"),
  /** Socket.IO 4 (Engine.IO 4) over its WebSocket transport only. */
  SOCKETIO_WS("ws");

  final String transport;

  Kind(String transport) {
    this.transport = transport;
  }

  boolean herald() {
    return this == HERALD_WS || this == HERALD_SSE || this == HERALD_POLL;
  }
}
