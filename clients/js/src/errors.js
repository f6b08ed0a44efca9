// Error and close codes of the Herald wire protocol v1 (docs/protocol.md sections 7 and 8),
// and the HeraldError type every failure of this library is reported as.

/** Error codes of protocol section 7. Unknown codes are treated like `INTERNAL`. */
export const ErrorCodes = Object.freeze({
  INTERNAL: 100,
  UNAUTHORIZED: 101,
  UNKNOWN_CHANNEL: 102,
  PERMISSION_DENIED: 103,
  METHOD_NOT_FOUND: 104,
  ALREADY_SUBSCRIBED: 105,
  LIMIT_EXCEEDED: 106,
  BAD_REQUEST: 107,
  NOT_AVAILABLE: 108,
  TOKEN_EXPIRED: 109,
  NOT_SUBSCRIBED: 110,
  TOO_MANY_REQUESTS: 111,
  NOT_CONNECTED: 112,
  ALREADY_CONNECTED: 113,
  PAYLOAD_TOO_LARGE: 114,
  UNAVAILABLE: 115,
  STREAM_RESET: 116,
  USER_MISMATCH: 117,
});

/**
 * Failures detected by the client itself. They are strings so that they can never collide with
 * the protocol's numeric codes (including ones a later server version may add).
 */
export const ClientErrorCodes = Object.freeze({
  /** A request got no reply in time (or waited too long for a connection). */
  TIMEOUT: 'timeout',
  /** The connection ended while the request was in flight; its outcome is unknown. */
  CONNECTION_LOST: 'connection_lost',
  /** `herald.close()` was called, or the subscription was unsubscribed. */
  CLOSED: 'closed',
  /** The connection stopped for good (terminal close code); call `connect()` to try again. */
  OFFLINE: 'offline',
  /** The `token` callback threw or rejected. */
  TOKEN: 'token',
  /** No usable transport in this environment (e.g. no WebSocket in Node without the option). */
  TRANSPORT: 'transport',
  /** The server sent something that is not valid protocol v1. */
  PROTOCOL: 'protocol',
  /**
   * The server refuses this page's origin (403 `origin-not-allowed`): the site is misconfigured
   * (`server.allowed-origins`), no retry can help. The client stops.
   */
  ORIGIN: 'origin_refused',
});

const ERROR_NAMES = Object.freeze(
  Object.fromEntries(Object.entries(ErrorCodes).map(([name, code]) => [code, name.toLowerCase()])),
);

/** Protocol errors worth retrying as they are (section 7: unknown codes count as 100). */
const RETRYABLE = new Set([ErrorCodes.INTERNAL, ErrorCodes.TOO_MANY_REQUESTS, ErrorCodes.UNAVAILABLE]);

/**
 * Every error this library reports or rejects with.
 *
 * - `code`: a protocol error code (number, see {@link ErrorCodes}) or a client-side code
 *   (string, see {@link ClientErrorCodes}).
 * - `codeName`: `permission_denied`, `timeout`, ... (unknown numbers read `internal`).
 * - `channel`: the channel the failed operation was about, when there is one.
 * - `closeCode`: the WebSocket close code that came with it, when there is one.
 * - `retryable`: whether doing the same thing again later can succeed.
 */
export class HeraldError extends Error {
  /**
   * @param {number|string} code
   * @param {string} message
   * @param {{channel?: string, closeCode?: number, cause?: unknown}} [details]
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HeraldError';
    this.code = code;
    this.codeName = typeof code === 'number' ? (ERROR_NAMES[code] ?? 'internal') : String(code);
    if (details.channel !== undefined) this.channel = details.channel;
    if (details.closeCode !== undefined) this.closeCode = details.closeCode;
  }

  get retryable() {
    if (typeof this.code === 'number') return RETRYABLE.has(this.code) || !(this.code in ERROR_NAMES);
    return this.code === ClientErrorCodes.TIMEOUT || this.code === ClientErrorCodes.CONNECTION_LOST;
  }

  /** Builds an error from a protocol `{code, message}` object (a reply error or an `error` message). */
  static fromProtocol(error, details = {}) {
    const code = Number.isInteger(error?.code) ? error.code : ErrorCodes.INTERNAL;
    const message = typeof error?.message === 'string' ? error.message : `error ${code}`;
    return new HeraldError(code, message, details);
  }
}

/** Close codes of protocol section 8. */
export const CloseCodes = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  SERVER_RESTART: 4001,
  HEARTBEAT_TIMEOUT: 4002,
  SLOW_CONSUMER: 4003,
  CONNECT_TIMEOUT: 4004,
  TOKEN_EXPIRED: 4005,
  TOO_MANY_REQUESTS: 4006,
  RECONNECT: 4007,
  TOO_MANY_CONNECTIONS: 4008,
  UNAUTHORIZED: 4500,
  REFUSED: 4501,
  UNSUPPORTED_PROTOCOL: 4502,
});

/**
 * What to do after a connection closed with `code` (protocol section 8, decided by range so
 * that codes added later are handled): `'stop'` for 1000 (closed on request) and 4500-4999
 * (something must change first), `'reconnect'` for everything else. "Everything else" is wider
 * than the documented 1001-1015 and 4000-4499 on purpose: a close without a code (1005), a
 * dropped network (1006, or none at all) or a proxy's own code must never stop the client for
 * good.
 *
 * @param {number|null|undefined} code
 * @returns {'reconnect'|'stop'}
 */
export function closeAction(code) {
  if (code === CloseCodes.NORMAL) return 'stop';
  if (Number.isInteger(code) && code >= 4500 && code <= 4999) return 'stop';
  return 'reconnect';
}

/**
 * Splits a WebSocket close reason of the form `<text>; retry_ms=<n>` (protocol section 4,
 * `disconnect`) into its text and the suggested delay.
 *
 * @param {string|undefined} reason
 * @returns {{text: string, retryMs: number|null}}
 */
export function parseCloseReason(reason) {
  const text = typeof reason === 'string' ? reason : '';
  const m = /^(.*?);\s*retry_ms=(\d+)\s*$/s.exec(text);
  if (!m) return { text, retryMs: null };
  return { text: m[1], retryMs: Number(m[2]) };
}
