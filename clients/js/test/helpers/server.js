// Configuration and helpers for the tests that run against a real Herald server (started by
// herald-server's HeraldJsIT, or by hand: see README.md "Tests"). They are skipped only when
// HERALD_URL is not set, so `npm test` alone runs the unit tests.

import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { Herald } from '../../src/herald.js';

const env = process.env;
export const HERALD_URL = (env.HERALD_URL ?? '').replace(/\/+$/, '');
/** A second server with websocket.enabled=false (HeraldJsIT starts one), for negotiation tests. */
export const HERALD_URL_NO_WS = (env.HERALD_URL_NO_WS ?? '').replace(/\/+$/, '');
export const TOKEN_A = env.HERALD_TOKEN_A;
export const TOKEN_B = env.HERALD_TOKEN_B;
export const USER_A = env.HERALD_USER_A;
export const USER_B = env.HERALD_USER_B;
export const API_KEY = env.HERALD_API_KEY;
/** Every single wait is bounded by this (ms). */
export const TIMEOUT_MS = Number(env.HERALD_TIMEOUT_MS ?? 10_000);

/** Options for node:test: skipped without a server, failing fast on incomplete configuration. */
export const serverTest = {
  skip: HERALD_URL ? false : 'HERALD_URL is not set (integration tests need a running Herald server; see README.md)',
  timeout: Number(env.HERALD_TEST_TIMEOUT_MS ?? 60_000),
};

export function checkConfig() {
  const missing = ['HERALD_TOKEN_A', 'HERALD_TOKEN_B', 'HERALD_USER_A', 'HERALD_USER_B', 'HERALD_API_KEY'].filter((k) => !env[k]);
  if (missing.length) throw new Error(`HERALD_URL is set but these are missing: ${missing.join(', ')}`);
}

/** A fresh channel name, unique per test and run. */
export function uniqueChannel(namespace, label) {
  return `${namespace}:js-${label}-${randomBytes(5).toString('hex')}`;
}

/** Rejects with a message naming what was awaited if `promise` does not settle in time. */
export function withTimeout(promise, what, ms = TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Collects values (publications, events) and lets a test wait for a condition on them. */
export class Collector {
  items = [];
  #waiters = [];

  push = (item) => {
    this.items.push(item);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.done()) return true;
      w.resolve(this.items);
      return false;
    });
  };

  /** Waits until `done(items)` holds. */
  until(done, what) {
    if (done(this.items)) return Promise.resolve(this.items);
    return withTimeout(new Promise((resolve) => this.#waiters.push({ done: () => done(this.items), resolve })), what);
  }

  /** Waits for at least n items. */
  count(n, what) {
    return this.until((items) => items.length >= n, `${what} (${n} expected)`);
  }
}

/** Waits until the client's state satisfies `pred` (now or later). */
export function waitForState(herald, pred, what) {
  if (pred(herald.state)) return Promise.resolve(herald.state);
  let off;
  return withTimeout(
    new Promise((resolve) => {
      off = herald.on('state', (s) => {
        if (pred(s)) resolve(s);
      });
    }),
    `state: ${what} (now ${herald.state.state}: ${herald.state.reason})`,
  ).finally(() => off?.());
}

/**
 * Creates clients for one test and closes them when it ends. Each client uses its own
 * WebSocket subclass that records its sockets, so a test can kill the connection under it.
 * `options.url` picks another server (default HERALD_URL); the rest are Herald options.
 */
export function clients(t) {
  const open = [];
  t.after(() => {
    for (const c of open) c.herald.close();
  });
  return (token, { url = HERALD_URL, ...options } = {}) => {
    const sockets = [];
    class RecordingWebSocket extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    const herald = new Herald(url, { token, WebSocket: RecordingWebSocket, ...options });
    const errors = [];
    herald.on('error', (e) => errors.push(e));
    const c = { herald, sockets, errors, socket: () => sockets.at(-1) };
    open.push(c);
    return c;
  };
}

/**
 * A token callback that can be held: while `hold()` is in effect, connection attempts wait
 * in the callback, so a test knows the client is away while it publishes.
 */
export function gatedToken(token) {
  let gate = null;
  let release = null;
  const waiting = new Collector();
  return {
    token: async () => {
      if (gate) {
        waiting.push(true);
        await gate;
      }
      return token;
    },
    hold() {
      gate = new Promise((r) => (release = r));
    },
    /** Resolves once a connection attempt is waiting at the gate. */
    attemptWaiting: (what = 'a reconnect attempt to ask for a token') => waiting.count(waiting.items.length + 1, what),
    release() {
      const r = release;
      gate = null;
      release = null;
      r?.();
    },
  };
}

/** POST /api/v1/publish (protocol section 9); returns {epoch, offset}. */
export async function httpPublish(channel, data, base = HERALD_URL) {
  const res = await fetch(`${base}/api/v1/publish`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel, data }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP publish to '${channel}' answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** Publishes `count` messages one after another; data is {i}. Returns the positions. */
export async function httpPublishMany(channel, count, from = 0, base = HERALD_URL) {
  const positions = [];
  for (let i = from; i < from + count; i++) positions.push(await httpPublish(channel, { i }, base));
  return positions;
}

/** GET /connection/diagnostics with the API key: failure report counts and recent reports. */
export async function diagnostics(base = HERALD_URL) {
  const res = await fetch(`${base}/connection/diagnostics`, { headers: { Authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (res.status !== 200) throw new Error(`GET /connection/diagnostics answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/**
 * A fetch (for the HTTP transports) that lets a test cut the client's connection the way a
 * network would: `cut()` breaks the SSE stream in use, and makes every request of the current
 * long-polling session fail (the open poll at once).
 */
export function breakableFetch() {
  const streams = [];
  const polls = new Set();
  const dead = new Set();
  let session = null;
  const f = async (url, init = {}) => {
    const u = String(url);
    const m = /\/connection\/(?:poll|send)\/([^/?]+)/.exec(u);
    const id = m ? decodeURIComponent(m[1]) : null;
    if (id && dead.has(id)) throw new TypeError('fetch failed (connection cut by the test)');
    if (id && u.includes('/connection/poll/')) {
      // Our own abort signal, so that cut() can fail a poll the server holds open.
      const abort = new AbortController();
      init.signal?.addEventListener('abort', () => abort.abort());
      const entry = { id, abort };
      polls.add(entry);
      try {
        return await fetch(url, { ...init, signal: abort.signal });
      } finally {
        polls.delete(entry);
      }
    }
    const res = await fetch(url, init);
    if (u.endsWith('/connection/poll') && init.method === 'POST' && res.status === 200) {
      const text = await res.text();
      session = JSON.parse(text).session;
      return new Response(text, { status: res.status, headers: res.headers });
    }
    if (!u.endsWith('/connection/sse') || !res.body) return res;
    const reader = res.body.getReader();
    let controller;
    const body = new ReadableStream({
      start(c) {
        controller = c;
      },
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        } catch (err) {
          c.error(err);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    streams.push({ controller, reader });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  f.cut = () => {
    const s = streams.at(-1);
    if (s) {
      try {
        s.controller.error(new TypeError('terminated (connection cut by the test)'));
      } catch {
        // Already closed.
      }
      s.reader.cancel().catch(() => {});
    }
    if (session) {
      dead.add(session);
      for (const p of polls) if (p.id === session) p.abort.abort();
    }
  };
  return f;
}
