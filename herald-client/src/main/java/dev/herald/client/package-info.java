/**
 * Java client for the Herald wire protocol v1 over WebSocket ({@code java.net.http}).
 *
 * <p>Entry point: {@link dev.herald.client.HeraldClient#builder(java.net.URI)}. The client
 * reconnects on its own with exponential backoff and full jitter, recovers subscriptions from their
 * last stream position, answers heartbeats and detects dead connections. All callbacks ({@link
 * dev.herald.client.ConnectionListener}, {@link dev.herald.client.SubscriptionHandler}) run on one
 * event thread, in order.
 */
package dev.herald.client;
