/**
 * Limits against abusive or broken clients: a per-connection token bucket for inbound messages and
 * bounded counters of connections per user and per address. Internal to the hub (public only so
 * that the hub's package can use them).
 */
package dev.herald.core.limits;
