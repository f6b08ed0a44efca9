// options.js: validates the options of `new Herald(url, options)` (docs/client-js.md) and fills
// in the defaults. Herald reads its settings from the frozen object `readOptions` returns and
// never from the caller's object again. It also builds the parts the settings describe (the
// Backoff, the LagStats window, the context every transport gets).

import { Backoff } from './backoff.js';
import { defaultEnvironment, systemClock } from './environment.js';
import { LagStats } from './lag.js';
import { isObject } from './presence.js';
import { DEFAULT_TRANSPORTS, NEGOTIATION_DEFAULTS, defaultStorage, resolveTransports } from './negotiation.js';
import { resolveEndpoints } from './transport.js';

/** This library's version. */
export const VERSION = '0.1.0-SNAPSHOT';

const LIBRARY = `herald-js/${VERSION}`;
/** The shortest heartbeat interval a server grants (docs/protocol.md, connect `ping_ms`). */
export const MIN_PING_MS = 1000;
const OPTIONS = new Set([
  'token', 'WebSocket', 'EventSource', 'fetch', 'websocketPath', 'client', 'backoff', 'connectTimeout',
  'requestTimeout', 'liveness', 'idleAfter', 'hiddenTimeout', 'lag', 'transports', 'negotiation',
  'storage', 'clock', 'random', 'env',
]);

/**
 * Reads the constructor's arguments: `url` may be left out in favour of `options` (a page's own
 * origin). Throws TypeError / RangeError on unknown options and bad values.
 */
export function readOptions(url, options = {}) {
  if (isObject(url) && !(url instanceof URL)) {
    options = url;
    url = undefined;
  }
  if (!isObject(options)) throw new TypeError('new Herald(url, options): options must be an object');
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) throw new TypeError(`unknown Herald option '${key}'; expected one of ${[...OPTIONS].join(', ')}`);
  }
  const endpoints = resolveEndpoints(url, options.websocketPath);

  const token = options.token;
  if (token != null && typeof token !== 'string' && typeof token !== 'function') {
    throw new TypeError('options.token must be a string or a function returning one (or a promise of one)');
  }
  const factories = resolveTransports(options.transports ?? DEFAULT_TRANSPORTS);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const env = options.env ?? defaultEnvironment();

  const backoff = options.backoff ?? {};
  const liveness = options.liveness ?? {};
  const lag = options.lag ?? {};
  // Checked in this order, so the first bad value is the one reported.
  const o = {
    url: endpoints.url,
    websocketUrl: endpoints.websocketUrl,
    token: token ?? null,
    clientName: options.client ? `${LIBRARY} ${options.client}` : LIBRARY,
    factories,
    clock,
    random,
    env,
  };
  o.backoff = new Backoff({ base: backoff.base ?? 500, cap: backoff.cap ?? 30_000, random });
  o.resetAfter = nonNegative(backoff.resetAfter ?? 10_000, 'backoff.resetAfter');
  o.visibleCap = positive(backoff.visibleCap ?? 1_500, 'backoff.visibleCap');
  o.connectTimeout = positive(options.connectTimeout ?? 10_000, 'connectTimeout');
  o.requestTimeout = positive(options.requestTimeout ?? 10_000, 'requestTimeout');
  o.probeTimeout = positive(liveness.probeTimeout ?? 5_000, 'liveness.probeTimeout');
  o.checkInterval = positive(liveness.checkInterval ?? 10_000, 'liveness.checkInterval');
  o.wakeThreshold = positive(liveness.wakeThreshold ?? 15_000, 'liveness.wakeThreshold');
  /** The heartbeat interval asked of the server (connect `ping_ms`; 0 leaves the server's). */
  o.pingInterval = nonNegative(liveness.pingInterval ?? 5_000, 'liveness.pingInterval');
  if (o.pingInterval > 0 && o.pingInterval < MIN_PING_MS) throw new RangeError(`liveness.pingInterval must be 0 or at least ${MIN_PING_MS} ms, got ${o.pingInterval}`);
  /** How long past a due heartbeat the client waits before it counts the connection as dead. */
  o.grace = positive(liveness.grace ?? 4_000, 'liveness.grace');
  o.idleAfter = nonNegative(options.idleAfter ?? 5 * 60_000, 'idleAfter');
  o.hiddenTimeout = nonNegative(options.hiddenTimeout ?? 0, 'hiddenTimeout');
  o.lagStats = new LagStats(lag.window ?? 1000);
  o.lagReportInterval = nonNegative(lag.reportInterval ?? 60_000, 'lag.reportInterval');
  o.lagServerReport = lag.serverReport ?? true;
  if (typeof o.lagServerReport !== 'boolean') throw new TypeError('lag.serverReport must be a boolean');
  o.lagServerInterval = positive(lag.serverReportInterval ?? 30_000, 'lag.serverReportInterval');
  o.negotiation = negotiationOptions(options.negotiation);

  const globalFetch = typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined;
  /** The context every transport gets (URLs, WebSocket/EventSource/fetch, clock, server info). */
  o.ctx = {
    url: o.url,
    websocketUrl: o.websocketUrl,
    WebSocket: 'WebSocket' in options ? options.WebSocket : globalThis.WebSocket,
    EventSource: 'EventSource' in options ? options.EventSource : globalThis.EventSource,
    fetch: 'fetch' in options ? options.fetch : globalFetch,
    clock,
  };
  o.storage = 'storage' in options ? options.storage : defaultStorage();
  return Object.freeze(o);
}

/** Validates `options.negotiation` and fills in the defaults. */
function negotiationOptions(given = {}) {
  if (!isObject(given)) throw new TypeError('options.negotiation must be an object');
  for (const key of Object.keys(given)) {
    if (!(key in NEGOTIATION_DEFAULTS)) throw new TypeError(`unknown negotiation option '${key}'; expected one of ${Object.keys(NEGOTIATION_DEFAULTS).join(', ')}`);
  }
  const o = { ...NEGOTIATION_DEFAULTS, ...given };
  positive(o.openTimeout, 'negotiation.openTimeout');
  positive(o.helloTimeout, 'negotiation.helloTimeout');
  if (o.noDataTimeout !== null) positive(o.noDataTimeout, 'negotiation.noDataTimeout');
  nonNegative(o.shortLivedMs, 'negotiation.shortLivedMs');
  if (!(Number.isInteger(o.shortLivedCount) && o.shortLivedCount >= 1)) throw new RangeError(`negotiation.shortLivedCount must be an integer >= 1, got ${o.shortLivedCount}`);
  nonNegative(o.reprobeInterval, 'negotiation.reprobeInterval');
  nonNegative(o.rememberFor, 'negotiation.rememberFor');
  nonNegative(o.reportInterval, 'negotiation.reportInterval');
  for (const key of ['info', 'remember', 'report']) {
    if (typeof o[key] !== 'boolean') throw new TypeError(`negotiation.${key} must be true or false`);
  }
  return Object.freeze(o);
}

function positive(v, name) {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number of ms, got ${v}`);
  return v;
}

function nonNegative(v, name) {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${v}`);
  return v;
}
