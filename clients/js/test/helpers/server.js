// Configuration and helpers for the tests that run against a real Herald server (started by
// herald-server's HeraldJsIT, or by hand: see README.md "Tests"). They are skipped only when
// HERALD_URL is not set, so `npm test` alone runs the unit tests.

import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { Herald } from '../../src/herald.js';

const env = process.env;
export const HERALD_URL = (env.HERALD_URL ?? '').replace(/\/+$/, '');
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
 */
export function clients(t) {
  const open = [];
  t.after(() => {
    for (const c of open) c.herald.close();
  });
  return (token, options = {}) => {
    const sockets = [];
    class RecordingWebSocket extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    const herald = new Herald(HERALD_URL, { token, WebSocket: RecordingWebSocket, ...options });
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
export async function httpPublish(channel, data) {
  const res = await fetch(`${HERALD_URL}/api/v1/publish`, {
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
export async function httpPublishMany(channel, count, from = 0) {
  const positions = [];
  for (let i = from; i < from + count; i++) positions.push(await httpPublish(channel, { i }));
  return positions;
}
