package dev.herald.server.fallback;

import dev.herald.core.hub.ClientSession;
import dev.herald.core.transport.TransportConnection;

/**
 * A hub session carried over HTTP requests (SSE stream or long-polls plus command POSTs). The id is
 * an unguessable capability: whoever holds it may send commands as this connection, so it only ever
 * travels in request paths over the same origin (or an allowed one) and never in logs.
 *
 * @param id {@code <node>.<random>}: the node part lets a cluster route a request that reached
 *     another node to the one holding the session
 */
record HttpSession(String id, ClientSession session, TransportConnection connection) {}
