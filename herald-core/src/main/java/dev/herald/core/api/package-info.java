/**
 * The server API: what an operator or an embedding application does to a running cluster beyond
 * publishing (list and disconnect connections, unsubscribe a user, presence, history, channels,
 * nodes). {@link dev.herald.core.api.ServerApi} is the entry point; {@code Hub.api()} returns it,
 * and herald-server serves it over HTTP under {@code /api/v1/} (docs/server-api.md).
 */
package dev.herald.core.api;
