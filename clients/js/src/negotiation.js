// Transport negotiation (docs/client-js.md, "Transports"): which transport to try next and why.
// It keeps what the server offers (GET /connection/info), which transports failed here and how,
// the transport that worked last time on this origin (in localStorage or an injected storage),
// the short-lived-connection counts, and sends failure reports to the server
// (POST /connection/report), rate limited. Herald (herald.js) runs the connections; this class
// only decides and remembers.

import { longPollingTransport, sseTransport } from './http-transports.js';
import { websocketTransport } from './transport.js';

/** The default order of preference. */
export const DEFAULT_TRANSPORTS = Object.freeze(['websocket', 'sse', 'long-polling']);

/** Transports by name, for `options.transports: ['websocket', 'sse', 'long-polling']`. */
export const TRANSPORTS = Object.freeze({
  websocket: websocketTransport,
  sse: sseTransport,
  'long-polling': longPollingTransport,
});

/** The keys of /connection/info for each transport. */
const INFO_KEYS = Object.freeze({ websocket: 'websocket', sse: 'sse', 'long-polling': 'longPolling' });

/** How long a fetched /connection/info is used before it is fetched again (ms). */
const INFO_MAX_AGE_MS = 5 * 60_000;
/** Reports are clipped to what the server keeps. */
const MAX_DETAIL = 300;

export const NEGOTIATION_DEFAULTS = Object.freeze({
  info: true,
  openTimeout: 5_000,
  helloTimeout: 5_000,
  noDataTimeout: null,
  shortLivedMs: 10_000,
  shortLivedCount: 3,
  reprobeInterval: 5 * 60_000,
  remember: true,
  rememberFor: 7 * 24 * 60 * 60_000,
  report: true,
  reportInterval: 10 * 60_000,
});

/** Turns `options.transports` (names or factories) into factories. */
export function resolveTransports(list) {
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('options.transports must be a non-empty array');
  const seen = new Set();
  return list.map((t) => {
    const factory = typeof t === 'string' ? TRANSPORTS[t] : t;
    if (!factory) throw new TypeError(`unknown transport '${t}'; expected one of ${Object.keys(TRANSPORTS).join(', ')} (or a TransportFactory)`);
    if (typeof factory.name !== 'string' || typeof factory.available !== 'function' || typeof factory.open !== 'function') {
      throw new TypeError('options.transports: a transport must be a name or an object with name, available() and open()');
    }
    if (seen.has(factory.name)) throw new TypeError(`options.transports lists '${factory.name}' twice`);
    seen.add(factory.name);
    return factory;
  });
}

/** `localStorage`, when this environment has a usable one (it can throw, e.g. in sandboxed frames). */
export function defaultStorage() {
  try {
    const s = globalThis.localStorage;
    return s && typeof s.getItem === 'function' ? s : null;
  } catch {
    return null;
  }
}

export class Negotiator {
  #factories;
  #ctx;
  #clock;
  #storage;
  #key;
  #opts;
  /** What /connection/info said, and when. */
  #info = null;
  #infoAt = -Infinity;
  #infoRequest = null;
  /** name -> {symptom, detail, at}: transports not to try until a re-probe shows them working. */
  #demoted = new Map();
  /** name -> consecutive short-lived connections. */
  #shortLived = new Map();
  /** The transport that last worked on this origin: {transport, at}. */
  #remembered = null;
  /** `transport/symptom` -> time of the last report (persisted with the remembered transport). */
  #reported = {};
  /** The heartbeat interval learned from idle cuts on this origin: {ms, at} (persisted). */
  #ping = null;
  /** Why the server refused this page's origin (GET /connection/info answered 403), or null. */
  #originRefused = null;

  /**
   * @param {object} o
   * @param {Array<import('./transport.js').TransportFactory>} o.factories  in order of preference
   * @param {import('./transport.js').TransportContext} o.ctx  shared context (its `info` is kept here)
   * @param {import('./environment.js').Clock} o.clock
   * @param {{getItem(k: string): string|null, setItem(k: string, v: string): void}|null} o.storage
   * @param {typeof NEGOTIATION_DEFAULTS} o.options
   */
  constructor({ factories, ctx, clock, storage, options }) {
    this.#factories = factories;
    this.#ctx = ctx;
    this.#clock = clock;
    this.#opts = options;
    this.#storage = options.remember || options.report ? storage : null;
    this.#key = `herald:transport:${ctx.url}`;
    const negotiator = this;
    Object.defineProperty(ctx, 'info', { get: () => negotiator.#info, enumerable: true });
    this.#load();
  }

  /** Whether there is anything to negotiate (more than one transport configured). */
  get active() {
    return this.#factories.length > 1;
  }

  get options() {
    return this.#opts;
  }

  /** The transport remembered for this origin, if any and recent enough. */
  get remembered() {
    return this.#remembered?.transport ?? null;
  }

  // ---------------------------------------------------------------- /connection/info

  /** Whether /connection/info should be (re)fetched before the next attempt. */
  wantsInfo() {
    return this.active && this.#opts.info && typeof this.#ctx.fetch === 'function' && this.#clock.now() - this.#infoAt > INFO_MAX_AGE_MS;
  }

  /** Whether a failure can be checked against /connection/info (see `reachable`). */
  get canCheck() {
    return this.#opts.info && typeof this.#ctx.fetch === 'function';
  }

  /**
   * Fetches GET /connection/info. Resolves true when the server answered at all (any HTTP
   * status: something is reachable over plain HTTP), false on a network error or timeout. This
   * is what tells "WebSocket is blocked on the way" from "the server is down".
   */
  reachable() {
    if (this.#infoRequest) return this.#infoRequest;
    const ctx = this.#ctx;
    const abort = new AbortController();
    const timer = this.#clock.setTimeout(() => abort.abort(), this.#opts.openTimeout);
    this.#infoRequest = (async () => {
      try {
        const res = await ctx.fetch(`${ctx.url}/connection/info`, { credentials: 'include', cache: 'no-store', signal: abort.signal });
        if (res.status === 403 && res.headers?.get?.('X-Herald-Error') === 'origin-not-allowed') {
          res.body?.cancel?.().catch?.(() => {});
          this.#originRefused = 'the server does not accept connections from this page\'s origin (403 origin-not-allowed): the site is misconfigured (server.allowed-origins)';
        } else if (res.status === 200) {
          this.#originRefused = null;
          try {
            const info = await res.json();
            if (info && typeof info === 'object') {
              this.#info = info;
              this.#infoAt = this.#clock.now();
            }
          } catch {
            // Not JSON (an old server, or a proxy's page): nothing known about transports.
          }
        } else {
          res.body?.cancel?.().catch?.(() => {});
          this.#originRefused = null;
          this.#infoAt = this.#clock.now(); // reachable, but without info: do not ask again soon
        }
        return true;
      } catch {
        return false;
      } finally {
        this.#clock.clearTimeout(timer);
        this.#infoRequest = null;
      }
    })();
    return this.#infoRequest;
  }

  /** Whether the server said (in /connection/info) that it does not offer this transport. */
  disabledByServer(name) {
    const key = INFO_KEYS[name];
    return Boolean(key && this.#info?.[key]?.enabled === false);
  }

  /** Why the server refused this page's origin (its last answer to /connection/info), or null. */
  get originRefused() {
    return this.#originRefused;
  }

  // ---------------------------------------------------------------- heartbeats

  /** The heartbeat interval learned from idle cuts on this origin (ms), or null. */
  get learnedPing() {
    return this.#ping?.ms ?? null;
  }

  /** Remembers the heartbeat interval that keeps connections below a proxy's idle timeout. */
  learnPing(ms) {
    this.#ping = { ms, at: this.#clock.now() };
    this.#save();
  }

  // ---------------------------------------------------------------- choosing

  /**
   * The transport for the next attempt: the first configured one that runs here, is offered by
   * the server and has not failed here. Returns `{factory, reason}`; `{exhausted: true}` when
   * every usable transport failed (the caller resets and backs off); or a string when none can
   * run at all.
   */
  choose() {
    for (let pass = 0; pass < 2; pass++) {
      const skipped = [];
      let onlyRemembered = true;
      for (const f of this.#factories) {
        const ok = f.available(this.#ctx);
        if (ok !== true) {
          skipped.push(`${f.name} unavailable (${ok})`);
          onlyRemembered = false;
          continue;
        }
        if (this.disabledByServer(f.name)) {
          skipped.push(`${f.name} disabled by the server (/connection/info)`);
          onlyRemembered = false;
          this.report(f.name, 'disabled', 'GET /connection/info says it is disabled');
          continue;
        }
        const d = this.#demoted.get(f.name);
        if (d) {
          if (d.symptom === 'remembered') {
            skipped.push(`${f.name} skipped (${d.detail})`);
          } else {
            skipped.push(`${f.name} ${d.symptom} (${d.detail})`);
            onlyRemembered = false;
          }
          continue;
        }
        let reason;
        if (skipped.length === 0) reason = 'first choice';
        else if (onlyRemembered) reason = `remembered: ${f.name} worked last time on this origin (${this.#skippedNames(f.name)} re-probed in the background)`;
        else reason = `fallback: ${skipped.join('; ')}`;
        return { factory: f, reason };
      }
      // Nothing left. Transports skipped only because another was remembered never failed here:
      // try them after all.
      const remembered = [...this.#demoted].filter(([, d]) => d.symptom === 'remembered');
      if (pass === 0 && remembered.length > 0) {
        for (const [name] of remembered) this.#demoted.delete(name);
        continue;
      }
      if (this.#demoted.size > 0) return { exhausted: true };
      return `no usable transport: ${skipped.join('; ')}`;
    }
    return { exhausted: true };
  }

  #skippedNames(name) {
    const i = this.#factories.findIndex((f) => f.name === name);
    return this.#factories.slice(0, i).map((f) => f.name).join(' and ');
  }

  /**
   * Transports preferred over `name` that could run (available here, offered by the server),
   * whether or not they failed: the candidates of a background re-probe, best first.
   */
  better(name) {
    const out = [];
    for (const f of this.#factories) {
      if (f.name === name) break;
      if (f.available(this.#ctx) === true && !this.disabledByServer(f.name)) out.push(f);
    }
    return out;
  }

  /** Whether every transport skipped so far was skipped only because another was remembered. */
  get onlyRememberedSkips() {
    return this.#demoted.size > 0 && [...this.#demoted.values()].every((d) => d.symptom === 'remembered');
  }

  // ---------------------------------------------------------------- failures and successes

  demote(name, symptom, detail) {
    this.#demoted.set(name, { symptom, detail, at: this.#clock.now() });
    this.#shortLived.delete(name);
  }

  /** The symptom a transport was demoted for (or null). */
  demotion(name) {
    return this.#demoted.get(name)?.symptom ?? null;
  }

  /** Every transport failed: start over from the top (after a backoff delay). */
  resetDemotions() {
    this.#demoted.clear();
  }

  /** A transport went live (or a re-probe of it succeeded): trust it again and remember it. */
  succeeded(name) {
    this.#demoted.delete(name);
    if (this.#opts.remember) {
      this.#remembered = { transport: name, at: this.#clock.now() };
      this.#save();
    }
  }

  /**
   * A connection that had opened ended. Returns a `short-lived` failure when this was the
   * `shortLivedCount`th in a row to close abnormally within `shortLivedMs` of opening, else null.
   */
  ended(name, { lived, abnormal }) {
    const { shortLivedMs, shortLivedCount } = this.#opts;
    if (lived >= shortLivedMs) {
      this.#shortLived.delete(name);
      return null;
    }
    if (!abnormal) return null; // e.g. a server restart: the transport is not to blame
    const n = (this.#shortLived.get(name) ?? 0) + 1;
    this.#shortLived.set(name, n);
    if (n < shortLivedCount) return null;
    this.#shortLived.delete(name);
    return { symptom: 'short-lived', detail: `${n} connections in a row closed within ${shortLivedMs} ms of opening`, ambiguous: false };
  }

  // ---------------------------------------------------------------- reports

  /**
   * POST /connection/report {transport, symptom, detail}: best effort, at most once per
   * transport and symptom per `reportInterval` (across page loads when there is storage).
   * Returns whether a report was sent.
   */
  report(name, symptom, detail) {
    const fetchFn = this.#ctx.fetch;
    if (!this.#opts.report || typeof fetchFn !== 'function') return false;
    const key = `${name}/${symptom}`;
    const now = this.#clock.now();
    const last = this.#reported[key];
    if (last !== undefined && now - last < this.#opts.reportInterval && now >= last) return false;
    this.#reported[key] = now;
    this.#save();
    const body = JSON.stringify({ transport: name, symptom, detail: String(detail ?? '').slice(0, MAX_DETAIL) });
    try {
      fetchFn(`${this.#ctx.url}/connection/report`, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        credentials: 'include',
        cache: 'no-store',
        keepalive: true,
      }).then(
        (res) => res?.body?.cancel?.().catch?.(() => {}),
        () => {},
      );
    } catch {
      // Best effort.
    }
    return true;
  }

  // ---------------------------------------------------------------- storage

  #load() {
    let saved = null;
    try {
      const raw = this.#storage?.getItem(this.#key);
      saved = raw ? JSON.parse(raw) : null;
    } catch {
      saved = null;
    }
    if (!saved || typeof saved !== 'object') return;
    const now = this.#clock.now();
    if (saved.reports && typeof saved.reports === 'object') {
      for (const [k, at] of Object.entries(saved.reports)) {
        if (Number.isFinite(at) && now - at < this.#opts.reportInterval) this.#reported[k] = at;
      }
    }
    if (Number.isFinite(saved.pingMs) && saved.pingMs >= 1000 && Number.isFinite(saved.pingAt) && now - saved.pingAt <= this.#opts.rememberFor) {
      this.#ping = { ms: saved.pingMs, at: saved.pingAt };
    }
    const t = saved.transport;
    if (!this.#opts.remember || typeof t !== 'string' || !Number.isFinite(saved.at) || now - saved.at > this.#opts.rememberFor) return;
    const index = this.#factories.findIndex((f) => f.name === t);
    if (index < 0) return;
    this.#remembered = { transport: t, at: saved.at };
    // Start from the remembered transport: the better ones are re-probed in the background.
    for (const f of this.#factories.slice(0, index)) {
      this.#demoted.set(f.name, { symptom: 'remembered', detail: `${t} was remembered as working on this origin`, at: now });
    }
  }

  #save() {
    if (!this.#storage) return;
    const now = this.#clock.now();
    const reports = {};
    for (const [k, at] of Object.entries(this.#reported)) if (now - at < this.#opts.reportInterval) reports[k] = at;
    const value = { reports };
    if (this.#remembered) Object.assign(value, this.#remembered);
    if (this.#ping) Object.assign(value, { pingMs: this.#ping.ms, pingAt: this.#ping.at });
    try {
      this.#storage.setItem(this.#key, JSON.stringify(value));
    } catch {
      // Full or forbidden storage: the client works the same, it just forgets.
    }
  }

  /** For stats(): the order, what failed and why, what is remembered, what the server offers. */
  snapshot() {
    return {
      order: this.#factories.map((f) => f.name),
      demoted: Object.fromEntries([...this.#demoted].map(([name, d]) => [name, { symptom: d.symptom, detail: d.detail, at: d.at }])),
      remembered: this.remembered,
      learnedPing: this.learnedPing,
      info: this.#info,
    };
  }
}
