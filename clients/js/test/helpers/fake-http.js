// A scripted Herald server behind a fake `fetch`, for the unit tests of the HTTP transports and
// of transport negotiation: GET /connection/info, SSE streams, long-polling sessions with
// acknowledged batches, POST /connection/send and POST /connection/report. The test plays the
// server side message by message, as with the fake WebSocket in fakes.js. No sockets involved.

import { flush } from './fakes.js';

/** Lets fetch and stream promise chains run (each read of a stream takes a few turns). */
export async function settle(turns = 8) {
  for (let i = 0; i < turns; i++) await flush();
}

let clientIds = 0;

/** Server-side helpers shared by the SSE stream and the long-polling session fakes. */
class ScriptedPeer {
  /** Messages the client sent (POST /connection/send), parsed, in order. */
  sent = [];
  /** Bodies of the send POSTs, one per request. */
  posts = [];
  #taken = new Set();

  sentOf(type) {
    return this.sent.filter((m) => m.type === type);
  }

  take(type, pred = () => true) {
    for (let i = 0; i < this.sent.length; i++) {
      if (!this.#taken.has(i) && this.sent[i].type === type && pred(this.sent[i])) {
        this.#taken.add(i);
        return this.sent[i];
      }
    }
    throw new Error(`the client sent no (further) '${type}' message; sent: ${JSON.stringify(this.sent)}`);
  }

  tryTake(type, pred = () => true) {
    try {
      return this.take(type, pred);
    } catch {
      return undefined;
    }
  }

  reply(request, result = {}) {
    this.receive({ type: 'reply', id: request.id, result });
  }

  replyError(request, code, message = `error ${code}`) {
    this.receive({ type: 'reply', id: request.id, error: { code, message } });
  }

  /** Answers the `connect` request (after letting the client send it). */
  async connected(result = {}) {
    await settle();
    const req = this.take('connect');
    this.reply(req, { client: `h-${++clientIds}`, user: 'alice', node: 'herald-test', protocol: 1, ping_ms: 25_000, pong_ms: 10_000, max_message_bytes: 65_536, ...result });
    await settle();
    return req;
  }

  async subscribed(channel, result = {}) {
    await settle();
    const req = this.take('subscribe', (m) => m.channel === channel);
    this.reply(req, { epoch: 'E1', offset: 0, recoverable: true, recovered: false, missed: 0, ...result });
    await settle();
    return req;
  }

  pub(channel, offset, data = { n: offset }, extra = {}) {
    this.receive({ type: 'pub', channel, epoch: 'E1', offset, ts: extra.ts ?? 0, data, ...extra });
  }
}

/** One SSE response stream (GET /connection/sse). */
export class FakeSseStream extends ScriptedPeer {
  session;
  request;
  closedByClient = false;
  #controller;
  #encoder = new TextEncoder();

  constructor(session, request, controller) {
    super();
    this.session = session;
    this.request = request;
    this.#controller = controller;
  }

  /** Raw event-stream text. */
  push(text) {
    try {
      this.#controller.enqueue(this.#encoder.encode(text));
    } catch {
      // The client closed it.
    }
  }

  /** The server's opening: padding, then the `session` event. */
  open() {
    this.push(`:${' '.repeat(2048)}\n`);
    this.push(`event: session\ndata: ${JSON.stringify({ session: this.session, transport: 'sse', node: 'herald-test', protocol: 1 })}\n\n`);
  }

  /** One event holding the messages, one data line each (as the server encodes a batch). */
  receive(...messages) {
    this.push(`${messages.map((m) => `data: ${typeof m === 'string' ? m : JSON.stringify(m)}\n`).join('')}\n`);
  }

  /** The server ends the response. */
  end() {
    try {
      this.#controller.close();
    } catch {
      // Already closed.
    }
  }

  /** The connection breaks. */
  drop() {
    try {
      this.#controller.error(new TypeError('terminated'));
    } catch {
      // Already closed.
    }
  }
}

/** One long-polling session (POST /connection/poll), with the server's acknowledgement rules. */
export class FakePollSession extends ScriptedPeer {
  session;
  /** Every poll's ack parameter, in order. */
  acks = [];
  /** Every poll's hold parameter (null when absent), in order. */
  holds = [];
  closedByClient = false;
  #buffer = [];
  #inLastBatch = 0;
  #batch = 0;
  #parked = null;

  constructor(session) {
    super();
    this.session = session;
  }

  /** Queues messages; a parked poll answers at once. */
  receive(...messages) {
    this.#buffer.push(...messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))));
    this.#answerParked();
  }

  /** Whether a poll is waiting. */
  get parked() {
    return this.#parked !== null;
  }

  /** The poll timeout passes: a parked poll answers 204. */
  timeout() {
    const p = this.#parked;
    this.#parked = null;
    p?.resolve(new Response(null, { status: 204, headers: { 'X-Herald-Batch': String(this.#batch) } }));
  }

  /**
   * A proxy in front gives up on the parked poll (its read timeout passed): it answers `status`
   * (504 by default) with its own page, and the server never learns of it.
   */
  gatewayTimeout(status = 504) {
    const p = this.#parked;
    this.#parked = null;
    p?.resolve(new Response('<html><body><h1>504 Gateway Time-out</h1></body></html>', { status, headers: { 'Content-Type': 'text/html', Server: 'nginx' } }));
  }

  /** The next poll fails at the network level (the parked one, if any, now). */
  failParked() {
    const p = this.#parked;
    this.#parked = null;
    p?.reject(new TypeError('fetch failed'));
  }

  poll(ack, signal, hold = null) {
    this.acks.push(ack);
    this.holds.push(hold);
    if (ack === this.#batch && this.#inLastBatch > 0) {
      this.#buffer.splice(0, this.#inLastBatch);
      this.#inLastBatch = 0;
    }
    this.timeout(); // a newer poll answers an older one
    return new Promise((resolve, reject) => {
      this.#parked = { resolve, reject };
      signal?.addEventListener('abort', () => {
        if (this.#parked?.resolve === resolve) this.#parked = null;
        this.closedByClient = true;
        reject(new DOMException('This operation was aborted', 'AbortError'));
      });
      if (this.#buffer.length > 0) this.#answerParked();
    });
  }

  #answerParked() {
    const p = this.#parked;
    if (!p || this.#buffer.length === 0) return;
    this.#parked = null;
    this.#batch++;
    this.#inLastBatch = this.#buffer.length;
    p.resolve(new Response(this.#buffer.join('\n'), { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Herald-Batch': String(this.#batch) } }));
  }
}

export const DEFAULT_INFO = Object.freeze({
  protocol: 1,
  node: 'herald-test',
  websocket: { enabled: true, path: '/connection/websocket' },
  sse: { enabled: true, path: '/connection/sse' },
  longPolling: { enabled: true, path: '/connection/poll', timeoutMs: 25_000 },
});

/**
 * A fake server behind `fetch`. Settings the test may change at any time:
 * `down` (every request fails at the network level), `info` (the /connection/info body; null
 * answers 404), `sseMode` (`ok`: streams open and send the session event; `buffered`: headers
 * but nothing else; `hang`: no response; `disabled`: 404 sse-disabled), `pollMode` (`ok`,
 * `hang`, `disabled`).
 */
export function fakeHttp(base = 'https://herald.test') {
  const server = {
    down: false,
    /**
     * Every /connection request answers 403 origin-not-allowed (server.allowed-origins lacks this
     * page); `'post'`: only POSTs, which is what a same-origin page sees behind a proxy that
     * rewrites Host (browsers send no Origin on same-origin GETs).
     */
    originRefused: false,
    info: structuredClone(DEFAULT_INFO),
    sseMode: 'ok',
    pollMode: 'ok',
    streams: [],
    polls: [],
    reports: [],
    /** Every request: {method, path}. */
    requests: [],
  };
  const sessions = new Map();
  let next = 0;

  const networkError = () => Promise.reject(new TypeError('fetch failed'));
  const hang = (signal) =>
    new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError'))));
  const refused = (status, code) => new Response(`${code}\n`, { status, headers: { 'X-Herald-Error': code, 'Content-Type': 'text/plain; charset=utf-8' } });

  server.fetch = async (url, init = {}) => {
    const u = new URL(String(url));
    const method = init.method ?? 'GET';
    server.requests.push({ method, path: u.pathname + u.search });
    if (!String(url).startsWith(base)) return networkError();
    if (server.down) return networkError();
    const path = u.pathname;
    if (server.originRefused && path.startsWith('/connection/') && (server.originRefused !== 'post' || method === 'POST')) return refused(403, 'origin-not-allowed');
    if (path === '/connection/info') {
      if (!server.info) return new Response('not found', { status: 404 });
      return new Response(JSON.stringify(server.info), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }
    if (path === '/connection/report' && method === 'POST') {
      server.reports.push(JSON.parse(init.body));
      return new Response(null, { status: 204 });
    }
    if (path === '/connection/sse') {
      if (server.sseMode === 'hang') return hang(init.signal);
      if (server.sseMode === 'disabled') return refused(404, 'sse-disabled');
      const id = `herald-test.s${++next}`;
      let controller;
      const body = new ReadableStream({ start: (c) => (controller = c) });
      const stream = new FakeSseStream(id, { url: String(url), init }, controller);
      init.signal?.addEventListener('abort', () => {
        stream.closedByClient = true;
        try {
          controller.error(new DOMException('This operation was aborted', 'AbortError'));
        } catch {
          // Already closed.
        }
      });
      sessions.set(id, stream);
      server.streams.push(stream);
      if (server.sseMode === 'ok') queueMicrotask(() => stream.open());
      return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } });
    }
    if (path === '/connection/poll' && method === 'POST') {
      if (server.pollMode === 'hang') return hang(init.signal);
      if (server.pollMode === 'disabled') return refused(404, 'longpoll-disabled');
      const id = `herald-test.p${++next}`;
      const session = new FakePollSession(id);
      sessions.set(id, session);
      server.polls.push(session);
      return new Response(JSON.stringify({ session: id, transport: 'long-polling', node: 'herald-test', protocol: 1 }), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }
    if (path.startsWith('/connection/poll/')) {
      const session = sessions.get(decodeURIComponent(path.slice('/connection/poll/'.length)));
      if (!(session instanceof FakePollSession)) return refused(404, 'session-unknown');
      const hold = u.searchParams.get('hold');
      return session.poll(Number(u.searchParams.get('ack')), init.signal, hold === null ? null : Number(hold));
    }
    if (path.startsWith('/connection/send/') && method === 'POST') {
      const session = sessions.get(decodeURIComponent(path.slice('/connection/send/'.length)));
      if (!session) return refused(404, 'session-unknown');
      session.posts.push(init.body);
      for (const line of String(init.body).split('\n')) if (line) session.sent.push(JSON.parse(line));
      return new Response(null, { status: 204 });
    }
    return new Response('not found', { status: 404 });
  };
  /** Ends a session on the server: later requests for it answer 404 session-unknown. */
  server.forget = (id) => sessions.delete(id);
  return server;
}

/** An in-memory `localStorage`. */
export class MemoryStorage {
  #map = new Map();

  getItem(key) {
    return this.#map.has(key) ? this.#map.get(key) : null;
  }

  setItem(key, value) {
    this.#map.set(key, String(value));
  }

  removeItem(key) {
    this.#map.delete(key);
  }

  /** The stored value under `key`, parsed. */
  json(key) {
    const v = this.getItem(key);
    return v === null ? null : JSON.parse(v);
  }
}

/** A browser-like EventSource over the fake server's fetch (for the EventSource code path). */
export function fakeEventSource(server) {
  const sources = [];
  class FakeEventSource {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSED = 2;
    readyState = 0;
    closedByClient = false;
    #listeners = new Map();
    #abort = new AbortController();

    constructor(url, init) {
      this.url = url;
      this.withCredentials = Boolean(init?.withCredentials);
      sources.push(this);
      this.#run();
    }

    addEventListener(type, fn) {
      if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
      this.#listeners.get(type).add(fn);
    }

    removeEventListener(type, fn) {
      this.#listeners.get(type)?.delete(fn);
    }

    dispatch(type, props = {}) {
      for (const fn of [...(this.#listeners.get(type) ?? [])]) fn({ type, ...props });
    }

    close() {
      this.readyState = 2;
      this.closedByClient = true;
      this.#abort.abort();
    }

    async #run() {
      let res;
      try {
        res = await server.fetch(this.url, { signal: this.#abort.signal });
      } catch {
        if (this.readyState !== 2) this.dispatch('error');
        return;
      }
      if (res.status !== 200) {
        this.readyState = 2;
        this.dispatch('error');
        return;
      }
      this.readyState = 1;
      this.dispatch('open');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      let type = '';
      let data = [];
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line === '') {
              if (data.length) this.dispatch(type || 'message', { data: data.join('\n') });
              type = '';
              data = [];
            } else if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
        }
      } catch {
        // Broken or aborted.
      }
      // A real EventSource would now reconnect by itself (readyState CONNECTING) after `error`.
      if (this.readyState !== 2) {
        this.readyState = 0;
        this.dispatch('error');
      }
    }
  }
  return { FakeEventSource, sources };
}
