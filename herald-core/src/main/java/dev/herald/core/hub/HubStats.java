package dev.herald.core.hub;

/**
 * A snapshot of the hub's counters.
 *
 * @param sessions open connections (including those not yet connected)
 * @param connected authenticated connections
 * @param subscriptions subscriptions over all connections
 * @param channels channels with at least one local subscriber
 * @param publications publications received from the broker since start
 * @param deliveries publications queued to subscribers since start
 * @param slowConsumers connections closed because their outbox overflowed
 */
public record HubStats(
    int sessions,
    int connected,
    int subscriptions,
    int channels,
    long publications,
    long deliveries,
    long slowConsumers) {}
