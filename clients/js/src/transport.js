// Transports carry protocol v1 messages between client and server. The client core speaks only
// to the small interface below; this file has the WebSocket transport, http-transports.js the
// Server-Sent Events and long-polling ones, and negotiation.js picks among them.

/** The WebSocket subprotocol of protocol v1 (docs/protocol.md section 1). */
export const SUBPROTOCOL = 'herald.v1.json';

/** The server's default WebSocket endpoint path. */
export const DEFAULT_WEBSOCKET_PATH = '/connection/websocket';

/**
 * @typedef {object} TransportContext  What a transport gets to open a connection.
 * @property {string} url            the server's base URL (http: or https:, no trailing slash)
 * @property {string} websocketUrl   the WebSocket endpoint (ws: or wss:)
 * @property {any} [WebSocket]       the WebSocket constructor to use
 * @property {any} [EventSource]     the EventSource constructor (SSE uses fetch streaming without one)
 * @property {typeof fetch} [fetch]  fetch, for the HTTP transports
 * @property {import('./environment.js').Clock} [clock]
 * @property {object|null} [info]    what GET /connection/info said, when known
 */

/**
 * @typedef {object} CloseInfo
 * @property {number|null} code   the close code, when there was one
 * @property {string} reason      the close reason, when there was one
 * @property {boolean} wasClean
 * @property {string} [error]     describes a failure (handshake refused, network error) when known
 * @property {string|null} [symptom]  for a connection that never opened: how it failed, in the
 *   terms of POST /connection/report (`handshake-failed`, `closed-before-open`, `disabled`...);
 *   null when it is not the transport's fault (e.g. the server is shutting down)
 * @property {boolean} [ambiguous]  true when the failure may just mean that the server is
 *   unreachable (the client then checks GET /connection/info before blaming the transport)
 * @property {number} [retryMs]   a delay the server asked for (Retry-After)
 */

/**
 * @typedef {object} TransportHandlers  How a transport reports to the client core. Each
 * connection calls `onOpen` at most once, then `onMessage` any number of times, then `onClose`
 * exactly once, unless the core closed it itself with `close()`, after which it calls nothing.
 * @property {() => void} onOpen  the connection is ready for the `connect` message
 * @property {(text: string) => void} onMessage  one frame of text; it may hold several messages
 *   separated by LF, which the core splits
 * @property {(info: CloseInfo) => void} onClose  the connection ended
 */

/**
 * @typedef {object} Transport  One open (or opening) connection.
 * @property {string} name
 * @property {string} [stage]  how far opening got (`requesting`, `streaming`, `open`), for diagnostics
 * @property {(text: string) => void} send  sends one frame of text (LF-joined messages)
 * @property {(code?: number, reason?: string) => void} close  closes without calling back
 */

/**
 * @typedef {object} TransportFactory
 * @property {string} name  reported in connection state events (`websocket`, `sse`, `long-polling`)
 * @property {(ctx: TransportContext) => true|string} available  true, or why not (shown to users)
 * @property {(ctx: TransportContext, handlers: TransportHandlers) => Transport} open
 * @property {(ctx: TransportContext) => string} [endpoint]  the URL it connects to (for messages)
 * @property {(connection: Transport, ms: number) => {symptom: string, detail: string, ambiguous: boolean}} [timeoutFailure]
 *   how to report a connection that did not open within `ms`
 */

/**
 * Resolves the URL given to `new Herald(url)` into the server's base URL and WebSocket endpoint.
 * An `http(s)://` URL (or a path, resolved against the page) is the server's base URL, and the
 * endpoint path is appended to it; a `ws(s)://` URL is taken as the WebSocket endpoint itself.
 *
 * @param {string|URL|undefined} url
 * @param {string} [websocketPath]
 * @returns {{url: string, websocketUrl: string}}
 */
export function resolveEndpoints(url, websocketPath = DEFAULT_WEBSOCKET_PATH) {
  const base = globalThis.location?.href;
  let u;
  try {
    u = base ? new URL(url ?? '/', base) : new URL(String(url));
  } catch {
    throw new TypeError(
      `invalid Herald URL '${url}': outside a browser page pass an absolute URL such as 'https://herald.example.com'`,
    );
  }
  u.search = '';
  u.hash = '';
  const path = u.pathname.replace(/\/+$/, '');
  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    const http = new URL(u.href);
    http.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    http.pathname = path.endsWith(websocketPath) ? path.slice(0, -websocketPath.length) : path;
    return { url: http.href.replace(/\/+$/, ''), websocketUrl: u.href };
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    u.pathname = path;
    const httpUrl = u.href.replace(/\/+$/, '');
    const ws = new URL(u.href);
    ws.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    ws.pathname = path + (websocketPath.startsWith('/') ? websocketPath : `/${websocketPath}`);
    return { url: httpUrl, websocketUrl: ws.href };
  }
  throw new TypeError(`invalid Herald URL '${url}': expected http:, https:, ws: or wss:`);
}

/** The WebSocket transport (protocol section 1). */
export const websocketTransport = Object.freeze({
  name: 'websocket',
  available(ctx) {
    if (typeof ctx.WebSocket === 'function') return true;
    return 'this environment has no WebSocket; pass one as options.WebSocket (in Node: the `ws` package)';
  },
  open(ctx, handlers) {
    return new WebSocketConnection(ctx, handlers);
  },
  endpoint: (ctx) => ctx.websocketUrl,
  timeoutFailure: (connection, ms) => ({ symptom: 'handshake-failed', detail: `no open within ${ms} ms`, ambiguous: true }),
});

/** Errors of the `ws` package that mean the TCP connection broke rather than a refused handshake. */
const SOCKET_LEVEL_ERROR = /ECONNRESET|EPIPE|socket hang up|closed before the connection/i;

const OPEN = 1;

class WebSocketConnection {
  name = 'websocket';
  #ws = null;
  #handlers;
  #done = false; // closed by us, or onClose already delivered
  #error = undefined;
  #sawError = false;
  #opened = false;

  constructor(ctx, handlers) {
    this.#handlers = handlers;
    let ws;
    try {
      ws = new ctx.WebSocket(ctx.websocketUrl, [SUBPROTOCOL]);
    } catch (err) {
      // E.g. a SyntaxError for a bad URL, or a SecurityError for ws: from an https: page.
      const message = err?.message ?? String(err);
      // A blocked ws: URL (mixed content) is a reason to try another transport, not to retry.
      queueMicrotask(() => this.#finish({ code: null, reason: '', wasClean: false, error: `the WebSocket constructor threw: ${message}`, symptom: 'handshake-failed', ambiguous: false }));
      return;
    }
    this.#ws = ws;
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      // Not every implementation lets it be set; v1 has no binary frames anyway.
    }
    ws.addEventListener('open', () => {
      this.#opened = true;
      if (!this.#done) handlers.onOpen();
    });
    ws.addEventListener('message', (event) => {
      if (this.#done) return;
      const data = event.data;
      if (typeof data === 'string') {
        handlers.onMessage(data);
      } else {
        // Protocol v1 is text only; treat a binary frame as a broken connection.
        this.close(1003, 'binary frames are not part of herald.v1.json');
        this.#handlers.onClose({ code: 1003, reason: 'the server sent a binary frame', wasClean: false });
      }
    });
    ws.addEventListener('error', (event) => {
      // Browsers give no detail (not even the HTTP status of a refused handshake); the `ws`
      // package puts a message on the event ("Unexpected server response: 403").
      const message = event?.message ?? event?.error?.message;
      this.#sawError = true;
      if (message) this.#error = message;
    });
    ws.addEventListener('close', (event) => {
      const code = Number.isInteger(event?.code) ? event.code : null;
      const failure = this.#opened ? {} : this.#classify(code);
      this.#finish({ code, reason: typeof event?.reason === 'string' ? event.reason : '', wasClean: Boolean(event?.wasClean), error: this.#error, ...failure });
    });
  }

  send(text) {
    if (!this.#done && this.#ws && this.#ws.readyState === OPEN) this.#ws.send(text);
  }

  close(code = 1000, reason = '') {
    if (this.#done) return;
    this.#done = true;
    if (!this.#ws) return;
    try {
      // Browsers accept only 1000 and 3000-4999 from scripts.
      const safe = code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
      this.#ws.close(safe, truncateUtf8(reason, 123));
    } catch {
      // Already closing: nothing to do.
    }
  }

  /**
   * How a socket that never opened failed. Browsers report a refused handshake (any non-101
   * answer, e.g. a proxy's 200 or the server's 400/403/404) only as an error followed by close
   * 1006, exactly as they report an unreachable server; `ws` in Node names the status.
   */
  #classify(code) {
    const message = this.#error ?? '';
    if (/Unexpected server response/i.test(message)) {
      return { symptom: 'handshake-failed', ambiguous: false };
    }
    if (this.#sawError && !SOCKET_LEVEL_ERROR.test(message)) {
      if (!message) this.#error = 'the handshake failed (refused, or answered with a non-101 status)';
      return { symptom: 'handshake-failed', ambiguous: true };
    }
    if (!message) this.#error = `the connection closed before open${code != null ? ` (code ${code})` : ''}`;
    return { symptom: 'closed-before-open', ambiguous: true };
  }

  #finish(info) {
    if (this.#done) return;
    this.#done = true;
    this.#handlers.onClose(info);
  }
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
function truncateUtf8(text, max) {
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > max) break;
    bytes += n;
    out += ch;
  }
  return out;
}

/** The number of UTF-8 bytes of a string (without allocating an encoded copy). */
export function utf8Length(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    } else bytes += 3;
  }
  return bytes;
}
