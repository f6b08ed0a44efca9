// The HTTP transports of protocol v1 (docs/protocol.md section 1, "HTTP transports"): for paths
// where WebSockets cannot pass (a proxy that drops `Upgrade`, a firewall, websocket.enabled=false).
// The same protocol messages travel over plain HTTP; only the framing differs:
//
// - Server-Sent Events: GET /connection/sse is a stream of events (an EventSource, or fetch
//   streaming where there is none, e.g. Node); commands go up as POSTs.
// - Long-polling: POST /connection/poll opens a session, then GET /connection/poll/{session}?ack=N
//   in a loop; acknowledged batches, so a lost response loses nothing. Commands as POSTs.
//
// Both implement the TransportFactory interface of transport.js, so the client core treats them
// exactly like the WebSocket (connect, replies, pings, recovery with `since`).

export const SSE_PATH = '/connection/sse';
export const POLL_PATH = '/connection/poll';
export const SEND_PATH = '/connection/send/';
/** Response header naming a long-poll batch; the next poll acknowledges it with `ack`. */
export const BATCH_HEADER = 'X-Herald-Batch';
/** The server's default poll timeout, used until /connection/info says otherwise. */
const DEFAULT_POLL_TIMEOUT_MS = 25_000;
/** How much longer than the server's poll timeout a poll may take before it counts as lost. */
const POLL_GRACE_MS = 15_000;
/** The shortest poll hold a server grants (`hold`, docs/protocol.md). */
const MIN_POLL_HOLD_MS = 1_000;
/** Polls that fail at the network level are retried this often (after 0.5 s, 1 s) before the
 * session counts as broken: the server keeps unacknowledged batches, so a retry loses nothing. */
const POLL_RETRIES = 2;

/**
 * Server-Sent Events for server-to-client, POSTs for client-to-server. Uses `ctx.EventSource`
 * when there is one (browsers), else fetch streaming with the parser below (Node).
 */
export const sseTransport = Object.freeze({
  name: 'sse',
  available(ctx) {
    if (typeof ctx.fetch !== 'function') return 'this environment has no fetch (needed to send commands); pass one as options.fetch';
    if (typeof ctx.EventSource === 'function' || typeof TextDecoder === 'function') return true;
    return 'this environment has neither EventSource nor TextDecoder';
  },
  open(ctx, handlers) {
    return typeof ctx.EventSource === 'function' ? new EventSourceConnection(ctx, handlers) : new FetchSseConnection(ctx, handlers);
  },
  endpoint: (ctx) => ctx.url + path(ctx, 'sse', SSE_PATH),
  timeoutFailure(connection, ms) {
    // The usual reason: a proxy that buffers responses holds back the stream (the server starts
    // it with 2 KiB of padding, which passes small buffers but not large ones).
    return connection?.stage === 'streaming'
      ? { symptom: 'buffered', detail: `the response started but no session event came within ${ms} ms (a proxy buffers the stream?)`, ambiguous: false }
      : { symptom: 'buffered', detail: `no response to GET ${SSE_PATH} within ${ms} ms`, ambiguous: true };
  },
});

/** HTTP long-polling: the last resort, it passes anything that passes plain requests. */
export const longPollingTransport = Object.freeze({
  name: 'long-polling',
  available(ctx) {
    return typeof ctx.fetch === 'function' ? true : 'this environment has no fetch; pass one as options.fetch';
  },
  open(ctx, handlers) {
    return new LongPollConnection(ctx, handlers);
  },
  endpoint: (ctx) => ctx.url + path(ctx, 'longPolling', POLL_PATH),
  timeoutFailure: (connection, ms) => ({ symptom: 'handshake-failed', detail: `no answer to POST ${POLL_PATH} within ${ms} ms`, ambiguous: true }),
});

/** The path /connection/info gives for a transport, or the protocol's default. */
function path(ctx, key, fallback) {
  const p = ctx.info?.[key]?.path;
  return typeof p === 'string' && p.startsWith('/') ? p : fallback;
}

// ------------------------------------------------------------------ shared parts

/**
 * What both HTTP transports share: the handlers (called at most as the interface promises),
 * the session id once known, and the command sender.
 */
class HttpLink {
  done = false;
  /** `requesting` (no response yet), `streaming` (response started), `open` (session known). */
  stage = 'requesting';
  #ctx;
  #handlers;
  #stop;
  #sender = null;

  constructor(ctx, handlers, stop) {
    this.#ctx = ctx;
    this.#handlers = handlers;
    this.#stop = stop;
  }

  opened(session) {
    if (this.done || this.stage === 'open') return;
    this.stage = 'open';
    this.#sender = new CommandSender(this.#ctx.fetch, `${this.#ctx.url}${SEND_PATH}${encodeURIComponent(session)}`, (info) => this.fail(info));
    this.#handlers.onOpen();
  }

  message(text) {
    if (!this.done && this.stage === 'open') this.#handlers.onMessage(text);
  }

  send(text) {
    if (!this.done) this.#sender?.send(text);
  }

  /** Ends the connection and tells the core (once). */
  fail(info) {
    if (this.done) return;
    this.done = true;
    this.#sender?.close();
    this.#stop();
    this.#handlers.onClose({ code: null, reason: '', wasClean: false, ...info });
  }

  /** Ends the connection without telling the core (it closed it). */
  close() {
    if (this.done) return;
    this.done = true;
    this.#sender?.close();
    this.#stop();
  }
}

/**
 * POST /connection/send/{session}: one request in flight at a time, so the server takes the
 * commands in the order they were sent. A failed POST is not retried (the server may have taken
 * it): the session counts as broken and the client reconnects with recovery.
 */
class CommandSender {
  #fetch;
  #url;
  #onFail;
  #queue = [];
  #busy = false;
  #closed = false;

  constructor(fetchFn, url, onFail) {
    this.#fetch = fetchFn;
    this.#url = url;
    this.#onFail = onFail;
  }

  send(text) {
    if (this.#closed) return;
    this.#queue.push(text);
    if (!this.#busy) this.#pump();
  }

  close() {
    this.#closed = true;
    this.#queue.length = 0;
  }

  async #pump() {
    this.#busy = true;
    while (this.#queue.length > 0 && !this.#closed) {
      const body = this.#queue.shift();
      let res;
      try {
        res = await this.#fetch(this.#url, {
          method: 'POST',
          body,
          // text/plain keeps cross-origin requests simple (no preflight).
          headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
          credentials: 'include',
          cache: 'no-store',
        });
      } catch (err) {
        if (!this.#closed) this.#onFail({ error: `sending to the server failed: ${describeError(err)}` });
        break;
      }
      if (res.status >= 200 && res.status < 300) {
        discard(res);
        continue;
      }
      if (this.#closed) break;
      const herald = res.headers.get('X-Herald-Error');
      if (herald === 'shutting-down') {
        // The node drains and ended this session (its 4001 may still be on the way): a new
        // session, elsewhere, after the delay the server asked for.
        this.#onFail(await refusal(res, `POST ${SEND_PATH}…`));
        break;
      }
      discard(res);
      if (herald === 'origin-not-allowed') this.#onFail(originRefusal(`POST ${SEND_PATH}…`));
      else if (res.status === 413) this.#onFail({ code: 1009, reason: 'message too big' });
      else if (herald === 'invalid-utf8') this.#onFail({ code: 1007, reason: 'a message was not valid UTF-8' });
      else if (res.status === 404) this.#onFail({ error: 'the server no longer knows this session (session-unknown)' });
      else this.#onFail({ error: `POST ${SEND_PATH}… answered ${res.status}${herald ? ` (${herald})` : ''}` });
      break;
    }
    this.#busy = false;
  }
}

/** A refused HTTP request, described for state events and failure reports. */
async function refusal(res, what) {
  const herald = res.headers.get('X-Herald-Error');
  const type = (res.headers.get('Content-Type') ?? '').split(';')[0].trim();
  const server = res.headers.get('Server');
  discard(res);
  let detail = `${what} answered ${res.status}`;
  if (herald) detail += ` (${herald})`;
  else if (type) detail += ` ${type}`;
  if (server && !herald) detail += ` from '${server}'`;
  if (herald === 'origin-not-allowed') return originRefusal(what);
  if (herald === 'shutting-down' || herald === 'too-many-sessions' || herald === 'too-many-connections') {
    const retry = Number(res.headers.get('Retry-After'));
    // Not the transport's fault (the server is draining or full): do not demote or report it;
    // reconnect after the delay the server asked for.
    const why = herald === 'shutting-down' ? 'the server is shutting down' : `the server is full (${herald})`;
    return { error: `${why} (${what} answered ${res.status})`, symptom: null, retryMs: Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined };
  }
  return { error: detail, symptom: herald?.endsWith('-disabled') ? 'disabled' : 'handshake-failed', ambiguous: false };
}

/**
 * `403 origin-not-allowed`: no transport and no retry can pass, the server is configured not to
 * accept this page. (Browsers send Origin on POSTs and WebSocket handshakes, not on same-origin
 * GETs: behind a proxy that rewrites Host, a stream may open and the first POST be refused.)
 */
function originRefusal(what) {
  return { error: `the server does not accept connections from this page's origin (${what} answered 403 origin-not-allowed): the site is misconfigured (server.allowed-origins)`, symptom: null, terminal: 'origin_refused' };
}

/** Lets go of a response body we do not read (so the connection can be reused). */
function discard(res) {
  try {
    res.body?.cancel?.().catch?.(() => {});
  } catch {
    // Already consumed or locked: nothing to release.
  }
}

function describeError(err) {
  const cause = err?.cause?.message ?? err?.cause?.code;
  const message = err?.message ?? String(err);
  return cause && !message.includes(cause) ? `${message} (${cause})` : message;
}

function isAbort(err) {
  return err?.name === 'AbortError';
}

// ------------------------------------------------------------------ Server-Sent Events

/**
 * A minimal parser for `text/event-stream` (the HTML standard's rules for lines, fields and
 * dispatch; `id` and `retry` are ignored because the client never lets a stream reconnect).
 */
export class SseParser {
  #onEvent;
  #buffer = '';
  #scanned = 0;
  #type = '';
  #data = [];

  /** @param {(type: string, data: string) => void} onEvent */
  constructor(onEvent) {
    this.#onEvent = onEvent;
  }

  /** Feeds decoded text; complete events are dispatched at once. */
  push(text) {
    this.#buffer += text;
    const buf = this.#buffer;
    let start = 0;
    for (let i = this.#scanned; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 13 && i + 1 === buf.length) break; // a CR at the end may be half of a CRLF
      const line = buf.slice(start, i);
      if (c === 13 && buf.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      this.#line(line);
    }
    this.#buffer = buf.slice(start);
    this.#scanned = Math.max(0, this.#buffer.length - (this.#buffer.endsWith('\r') ? 1 : 0));
  }

  #line(line) {
    if (line === '') {
      if (this.#data.length > 0) {
        const type = this.#type || 'message';
        const data = this.#data.join('\n');
        this.#data = [];
        this.#type = '';
        this.#onEvent(type, data);
      } else {
        this.#type = '';
      }
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' starts a comment (the server's padding)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#type = value;
  }
}

/** Reads the `session` event: the stream is open once the server named its session. */
function sessionOf(data) {
  try {
    const v = JSON.parse(data);
    return typeof v?.session === 'string' && v.session !== '' ? v.session : null;
  } catch {
    return null;
  }
}

/** SSE over fetch streaming (Node, or wherever there is no EventSource). */
class FetchSseConnection {
  name = 'sse';
  #link;
  #abort = new AbortController();

  constructor(ctx, handlers) {
    this.#link = new HttpLink(ctx, handlers, () => this.#abort.abort());
    this.#run(ctx);
  }

  get stage() {
    return this.#link.stage;
  }

  send(text) {
    this.#link.send(text);
  }

  close() {
    this.#link.close();
  }

  async #run(ctx) {
    const link = this.#link;
    const where = path(ctx, 'sse', SSE_PATH);
    let res;
    try {
      res = await ctx.fetch(ctx.url + where, {
        headers: { Accept: 'text/event-stream' },
        credentials: 'include',
        cache: 'no-store',
        signal: this.#abort.signal,
      });
    } catch (err) {
      if (!isAbort(err)) link.fail({ error: `GET ${where} failed: ${describeError(err)}`, symptom: 'closed-before-open', ambiguous: true });
      return;
    }
    if (link.done) {
      discard(res);
      return;
    }
    const type = res.headers.get('Content-Type') ?? '';
    if (res.status !== 200 || !type.startsWith('text/event-stream') || !res.body) {
      link.fail(await refusal(res, `GET ${where}`));
      return;
    }
    link.stage = 'streaming';
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser((event, data) => this.#event(event, data));
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (link.done) return;
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
        if (link.done) return;
      }
    } catch (err) {
      if (!link.done) link.fail({ error: `the event stream broke: ${describeError(err)}`, ...this.#early() });
      return;
    }
    link.fail({ error: 'the event stream ended', ...this.#early() });
  }

  /** A stream that ends or breaks before the session event never opened. */
  #early() {
    return this.#link.stage === 'open' ? {} : { symptom: 'closed-before-open', ambiguous: false };
  }

  #event(type, data) {
    if (type === 'session') {
      const session = sessionOf(data);
      if (session) this.#link.opened(session);
      else this.#link.fail({ error: `the session event is not {"session": ...}: ${data.slice(0, 100)}`, symptom: 'handshake-failed', ambiguous: false });
    } else if (type === 'message') {
      this.#link.message(data);
    }
  }
}

/** SSE over the browser's EventSource, which is never allowed to reconnect by itself. */
class EventSourceConnection {
  name = 'sse';
  #link;
  #es = null;

  constructor(ctx, handlers) {
    this.#link = new HttpLink(ctx, handlers, () => this.#es?.close());
    const link = this.#link;
    try {
      // withCredentials: cookies also travel cross-origin (the server answers with CORS
      // headers allowing credentials for the origins it accepts).
      this.#es = new ctx.EventSource(ctx.url + path(ctx, 'sse', SSE_PATH), { withCredentials: true });
    } catch (err) {
      queueMicrotask(() => link.fail({ error: `the EventSource constructor threw: ${describeError(err)}`, symptom: 'handshake-failed', ambiguous: false }));
      return;
    }
    const es = this.#es;
    es.addEventListener('open', () => {
      if (link.stage === 'requesting') link.stage = 'streaming';
    });
    es.addEventListener('session', (event) => {
      const session = sessionOf(event.data);
      if (session) link.opened(session);
      else link.fail({ error: 'the session event is not {"session": ...}', symptom: 'handshake-failed', ambiguous: false });
    });
    es.addEventListener('message', (event) => link.message(event.data));
    es.addEventListener('error', () => {
      // EventSource would reconnect on its own, but a new stream is a new session: close it and
      // let the client reconnect with its backoff and recovery (protocol section 1).
      es.close();
      if (link.stage === 'open') link.fail({ error: 'the event stream ended or broke' });
      else if (link.stage === 'streaming') link.fail({ error: 'the event stream ended before the session event', symptom: 'closed-before-open', ambiguous: false });
      // Browsers hide why: a refusal, a response that is not an event stream, or no server.
      else link.fail({ error: `GET ${SSE_PATH} failed (refused, not an event stream, or the server is unreachable)`, symptom: 'handshake-failed', ambiguous: true });
    });
  }

  get stage() {
    return this.#link.stage;
  }

  send(text) {
    this.#link.send(text);
  }

  close() {
    this.#link.close();
  }
}

// ------------------------------------------------------------------ long-polling

class LongPollConnection {
  name = 'long-polling';
  #ctx;
  #link;
  #abort = null;
  #wake = null;
  /** The session's poll URL once open; used to end the session when the client closes. */
  #base = null;

  constructor(ctx, handlers) {
    this.#ctx = ctx;
    this.#link = new HttpLink(ctx, handlers, () => {
      this.#abort?.abort();
      this.#wake?.();
    });
    this.#run();
  }

  get stage() {
    return this.#link.stage;
  }

  send(text) {
    this.#link.send(text);
  }

  close() {
    this.#link.close();
    // Tell the server at once (best effort), so the user leaves presence now rather than after
    // the session timeout. keepalive lets the request outlive a closing page.
    if (this.#base) {
      const base = this.#base;
      this.#base = null;
      try {
        Promise.resolve(this.#ctx.fetch(base, { method: 'DELETE', credentials: 'include', cache: 'no-store', keepalive: true })).catch(() => {});
      } catch {
        // best effort
      }
    }
  }

  async #run() {
    const ctx = this.#ctx;
    const link = this.#link;
    const where = path(ctx, 'longPolling', POLL_PATH);
    let res;
    this.#abort = new AbortController();
    try {
      res = await ctx.fetch(ctx.url + where, { method: 'POST', credentials: 'include', cache: 'no-store', signal: this.#abort.signal });
    } catch (err) {
      if (!isAbort(err)) link.fail({ error: `POST ${where} failed: ${describeError(err)}`, symptom: 'closed-before-open', ambiguous: true });
      return;
    }
    if (link.done) {
      discard(res);
      return;
    }
    if (res.status !== 200) {
      link.fail(await refusal(res, `POST ${where}`));
      return;
    }
    link.stage = 'streaming';
    let session = null;
    try {
      session = sessionOf(await res.text());
    } catch {
      // Handled below.
    }
    if (link.done) return;
    if (!session) {
      link.fail({ error: `POST ${where} did not answer {"session": ...}`, symptom: 'handshake-failed', ambiguous: false });
      return;
    }
    link.opened(session);
    this.#base = `${ctx.url}${where}/${encodeURIComponent(session)}`;
    this.#poll(this.#base);
  }

  /** The poll loop: one poll open at a time, the next one at once after each answer. */
  async #poll(base) {
    const link = this.#link;
    const ctx = this.#ctx;
    const clock = ctx.clock;
    let ack = 0;
    let failures = 0;
    while (!link.done) {
      const serverHold = Number(ctx.info?.longPolling?.timeoutMs) || DEFAULT_POLL_TIMEOUT_MS;
      // A hold learned from gateway timeouts (kept in the context, so later sessions start with it).
      const hold = ctx.pollHoldMs > 0 && ctx.pollHoldMs < serverHold ? ctx.pollHoldMs : null;
      const timeoutMs = (hold ?? serverHold) + POLL_GRACE_MS;
      const abort = new AbortController();
      this.#abort = abort;
      const timer = clock.setTimeout(() => abort.abort(), timeoutMs);
      const startedAt = clock.now();
      let res = null;
      let text = '';
      let problem = null;
      try {
        res = await ctx.fetch(`${base}?ack=${ack}${hold === null ? '' : `&hold=${hold}`}`, { credentials: 'include', cache: 'no-store', signal: abort.signal });
        if (res.status === 200) text = await res.text();
      } catch (err) {
        problem = abort.signal.aborted && !link.done ? `no answer within ${timeoutMs} ms` : describeError(err);
      }
      clock.clearTimeout(timer);
      if (link.done) return;
      if (problem === null && (res.status === 504 || res.status === 502)) {
        // A proxy gave up on a poll the server was still holding (its read timeout is shorter
        // than the hold): not a lost connection. Hold for half as long as the proxy waited, and
        // poll again at once; the batch was not acknowledged, so nothing is lost.
        const waited = clock.now() - startedAt;
        const shorter = Math.max(MIN_POLL_HOLD_MS, Math.floor(waited / 2));
        if (waited >= 2 * MIN_POLL_HOLD_MS && shorter < (hold ?? serverHold)) {
          discard(res);
          ctx.pollHoldMs = shorter;
          continue;
        }
      }
      if (problem === null && res.status === 200) {
        const header = res.headers.get(BATCH_HEADER);
        const batch = header === null || header.trim() === '' ? NaN : Number(header);
        if (!Number.isSafeInteger(batch) || batch < 1) {
          // Without the batch number nothing can be acknowledged (and everything would come again).
          link.fail({ error: `a poll answer had no ${BATCH_HEADER} header (removed by a proxy?)` });
          return;
        }
        ack = batch;
        failures = 0;
        if (text !== '') link.message(text);
        continue; // poll again at once
      }
      if (problem === null && res.status === 204) {
        failures = 0;
        continue;
      }
      if (problem === null) {
        const refused = await refusal(res, 'GET /connection/poll/{session}');
        if (res.status === 404) refused.error = 'the server no longer knows this session (session-unknown)';
        delete refused.symptom;
        delete refused.ambiguous;
        link.fail(refused);
        return;
      }
      // A network error or a lost answer: the server keeps what it sent until acknowledged, so
      // asking again with the same ack loses nothing.
      if (++failures > POLL_RETRIES) {
        link.fail({ error: `polling failed ${failures} times in a row: ${problem}` });
        return;
      }
      await new Promise((resolve) => {
        this.#wake = resolve;
        clock.setTimeout(resolve, 500 * failures);
      });
      this.#wake = null;
    }
  }
}
