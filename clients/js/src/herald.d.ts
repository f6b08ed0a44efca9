// Type declarations for herald.js (protocol v1). Reference: docs/client-js.md.

/** This library's version. */
export declare const VERSION: string;
/** The protocol version it speaks. */
export declare const PROTOCOL_VERSION: 1;
/** The WebSocket subprotocol of protocol v1. */
export declare const SUBPROTOCOL: 'herald.v1.json';

// ------------------------------------------------------------------ positions and messages

/** A position in a channel's stream (protocol section 5). */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** A publication delivered to `onPublication`. */
export interface Publication<T = unknown> {
  channel: string;
  /** The published JSON value, verbatim. */
  data: T;
  epoch: string;
  offset: number;
  /** Server time of publication (ms since the epoch), or null if the server sent none. */
  ts: number | null;
  /** Receive time (client clock) minus `ts`; includes clock skew. Null without `ts`. */
  lagMs: number | null;
  /** True for publications missed while disconnected and delivered by recovery. */
  recovered: boolean;
  /** The publishing user, when a connected client published it (absent for back-end publishes). */
  user?: string;
}

/** Passed to `onSubscribed` (every successful subscribe, including renewals after reconnects). */
export interface SubscribedInfo {
  channel: string;
  /** The position publications continue from. */
  position: StreamPosition;
  /** The position recovery was asked from, or null for a fresh subscribe. */
  since: StreamPosition | null;
  /** True when every missed publication follows (`missed` of them). */
  recovered: boolean;
  missed: number;
  /** Whether the channel keeps history (so that recovery can work later). */
  recoverable: boolean;
  /** The stream's latest position when the subscription went live. */
  top: StreamPosition;
}

/** Passed to `onStateLost`: publications were missed and cannot be recovered. Refetch state. */
export interface StateLostInfo {
  channel: string;
  /** Why recovery failed (history trimmed, stream reset, no history). */
  reason: string;
  /** The last position the client had. */
  previous: StreamPosition;
  /** Where publications continue from now. */
  position: StreamPosition;
}

// ------------------------------------------------------------------ presence

/** One connection (tab, device) in a channel, as the protocol reports it. */
export interface ClientPresence {
  client: string;
  user: string;
  /** Set by the server at connect (e.g. a display name). */
  info: Record<string, unknown>;
  /** Set by that connection: activity (`viewing`, `editing`, ...) and `idle`. */
  state: Record<string, unknown>;
}

/** One person in a channel, however many connections they have. */
export interface UserPresence {
  user: string;
  info: Record<string, unknown>;
  /** The user this client is connected as. */
  self: boolean;
  /** Number of connections (tabs, devices). */
  connections: number;
  /** True when every connection of theirs is idle. */
  idle: boolean;
  /** Items edited in any connection (`state.editing`), sorted, unique. */
  editing: string[];
  /** Items viewed in any connection (`state.viewing`), sorted, unique. */
  viewing: string[];
  clients: ClientPresence[];
}

export interface PresenceEvent {
  type: 'snapshot' | 'join' | 'leave' | 'presence_update';
  /** The connection concerned (absent for snapshots). */
  client?: ClientPresence;
}

export interface SubscriptionPresence {
  /** Everyone in the channel grouped by user. */
  users(): UserPresence[];
  /** Every connection in the channel. */
  clients(): ClientPresence[];
  /** Whether the namespace has presence: null until known. */
  readonly available: boolean | null;
  /** Fetches the list from the server (also turns presence tracking on). */
  refresh(): Promise<UserPresence[]>;
}

/** What this user is doing in a channel; `idle` is added by the client itself. */
export interface Activity {
  viewing?: string | string[];
  editing?: string | string[];
  [key: string]: unknown;
}

// ------------------------------------------------------------------ subscriptions

export interface SubscribeOptions<T = unknown> {
  /** Each publication, once, in order. */
  onPublication?: (pub: Publication<T>) => void;
  /** Every successful subscribe, including renewals after reconnects. */
  onSubscribed?: (info: SubscribedInfo) => void;
  /** Publications were missed and cannot be recovered: reload state from the source of truth. */
  onStateLost?: (info: StateLostInfo) => void;
  /** A connection joined the channel (namespaces with join/leave events). */
  onJoin?: (client: ClientPresence) => void;
  /** A connection left the channel. */
  onLeave?: (client: ClientPresence) => void;
  /** The presence list changed (any join, leave, update or fresh snapshot), grouped by user. */
  onPresence?: (users: UserPresence[], event: PresenceEvent) => void;
  /** Errors of this subscription (subscribe refused, presence unavailable, ...). */
  onError?: (error: HeraldError) => void;
  /** Track presence (snapshot after every subscribe). Default: true if a presence handler is given. */
  presence?: boolean;
  /** Start from this position (e.g. one stored with server-rendered data); recovery applies. */
  since?: StreamPosition;
}

export type SubscriptionState = 'subscribing' | 'live' | 'failed' | 'unsubscribed';

export declare class Subscription<T = unknown> {
  private constructor();
  readonly channel: string;
  /** `subscribing` (waiting for the server, also while reconnecting), `live`, `failed`, `unsubscribed`. */
  readonly state: SubscriptionState;
  /** Why it failed (state `failed`), else null. */
  readonly error: HeraldError | null;
  /** Position of the last publication delivered (or where the subscription started); null before that. */
  readonly position: StreamPosition | null;
  /** The activity last set with `setActivity`, or null. */
  readonly activity: Activity | null;
  readonly presence: SubscriptionPresence;
  /** Resolves on the first successful subscribe; rejects if it fails or is unsubscribed first. */
  ready(): Promise<SubscribedInfo>;
  /** Ends the subscription; no handler runs after this. Never rejects. */
  unsubscribe(): Promise<void>;
  /**
   * Announces what this user does in the channel (`{editing: 'item:7'}`), null clears it.
   * Resolves true once the server has it, false if it could not be set (see onError).
   */
  setActivity(activity: Activity | null): Promise<boolean>;
}

// ------------------------------------------------------------------ connection states

export type ConnectionStateName = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** What brings an `offline` client back. */
export type ResumeOn = 'connect' | 'online' | 'visible' | 'pageshow' | 'resume';

interface StateBase {
  /** The state before this one (null for the initial state). */
  previous: ConnectionStateName | null;
  /** Transport in use or last used (`websocket`, `sse`, `long-polling`); null when offline. */
  transport: TransportName | string | null;
  /**
   * Why that transport is used: `first choice`; `fallback: websocket handshake-failed (no open
   * within 5000 ms); ...` (what failed or was unavailable before it); `remembered: sse worked
   * last time on this origin (...)`; `re-probe: websocket works (was sse)` after a switch.
   */
  transportReason: string | null;
  /** Why this state was entered, for people. */
  reason: string;
  /** The close code that caused it, if any. */
  code: number | null;
  /** The error that caused it, if any. */
  error: HeraldError | null;
  /** Client clock time of the change. */
  at: number;
}

export interface ConnectingState extends StateBase {
  state: 'connecting';
  transport: string;
  transportReason: string;
  /** Failed attempts before this one. */
  attempt: number;
}

export interface LiveState extends StateBase {
  state: 'live';
  transport: string;
  transportReason: string;
  /** `connected` the first time, then `reconnected`; `switched from sse to websocket` after a re-probe. */
  reason: string;
  user: string | null;
  /** This connection's id (it names the connection in presence). */
  client: string | null;
  node: string | null;
}

export interface ReconnectingState extends StateBase {
  state: 'reconnecting';
  /** Delay before the next attempt. */
  delayMs: number;
  /** `server`: the server's retry_ms; `backoff`: exponential backoff with full jitter. */
  delaySource: 'server' | 'backoff';
  /** Number of the next attempt. */
  attempt: number;
  /** Client clock time of the next attempt. */
  retryAt: number;
}

export interface OfflineState extends StateBase {
  state: 'offline';
  transport: null;
  transportReason: null;
  /** `connect`: stopped until the application calls connect(); otherwise the event that resumes it. */
  resume: ResumeOn;
}

export type ConnectionState = ConnectingState | LiveState | ReconnectingState | OfflineState;

// ------------------------------------------------------------------ statistics

export interface LagSnapshot {
  /** Samples in the window. */
  count: number;
  /** Samples since start. */
  total: number;
  /** Window size (most recent samples). */
  window: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  last: number | null;
}

export interface HeraldStats {
  state: ConnectionStateName;
  transport: string | null;
  user: string | null;
  client: string | null;
  node: string | null;
  liveSince: number | null;
  subscriptions: number;
  idle: boolean;
  /** Consecutive failed attempts (the backoff exponent). */
  failedAttempts: number;
  attempts: number;
  connects: number;
  reconnects: number;
  disconnects: number;
  messages: number;
  publications: number;
  recoveredPublications: number;
  duplicates: number;
  gaps: number;
  stateLost: number;
  probes: number;
  /** Times the client fell back to the next transport after a transport failure. */
  fallbacks: number;
  /** Background re-probes of a better transport started. */
  reprobes: number;
  /** Connections cut after a silence that looked like a proxy's idle timeout (not held against the transport). */
  idleCuts: number;
  /** Switches to a better transport after a successful re-probe. */
  transportSwitches: number;
  /** Failure reports sent to POST /connection/report. */
  transportReports: number;
  lastGap: { channel: string; detail: string; position: StreamPosition; at: number } | null;
  lag: LagSnapshot;
  negotiation: NegotiationSnapshot;
}

export interface NegotiationSnapshot {
  /** The configured transports, in order of preference. */
  order: string[];
  /** Transports not tried until a re-probe shows them working, and why. */
  demoted: Record<string, { symptom: TransportSymptom | 'remembered'; detail: string; at: number }>;
  /** The transport remembered as working on this origin. */
  remembered: string | null;
  /** The heartbeat interval (ms) learned from idle cuts on this origin, or null. */
  learnedPing: number | null;
  /** What GET /connection/info said, if it was asked. */
  info: Record<string, unknown> | null;
}

// ------------------------------------------------------------------ injection points

/** Time as the client sees it; inject a fake one in tests. */
export interface Clock {
  /** Wall-clock ms since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The page lifecycle; defaults to window/document/navigator in browsers, a static one elsewhere. */
export interface Environment {
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
  readonly visibilityState: 'visible' | 'hidden';
  readonly onLine: boolean;
}

/** Storage for the remembered transport and report times; `localStorage` by default. */
export interface HeraldStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export type TransportName = 'websocket' | 'sse' | 'long-polling';

/** How a transport failed, as reported to POST /connection/report. */
export type TransportSymptom =
  | 'handshake-failed'
  | 'closed-before-open'
  | 'no-hello'
  | 'disabled'
  | 'buffered'
  | 'no-data'
  | 'short-lived'
  | 'other';

export interface TransportContext {
  url: string;
  websocketUrl: string;
  WebSocket?: unknown;
  EventSource?: unknown;
  fetch?: typeof fetch;
  clock?: Clock;
  /** What GET /connection/info said, when known. */
  readonly info?: Record<string, any> | null;
}

export interface TransportCloseInfo {
  code: number | null;
  reason: string;
  wasClean: boolean;
  error?: string;
  /** For a connection that never opened: how it failed (null: not the transport's fault). */
  symptom?: TransportSymptom | null;
  /** Whether the failure may only mean that the server is unreachable. */
  ambiguous?: boolean;
  /** A delay the server asked for. */
  retryMs?: number;
}

export interface TransportHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(info: TransportCloseInfo): void;
}

export interface Transport {
  readonly name: string;
  /** How far opening got (`requesting`, `streaming`, `open`). */
  readonly stage?: string;
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** A way to reach the server: websocketTransport, sseTransport, longPollingTransport, or your own. */
export interface TransportFactory {
  readonly name: string;
  /** true, or why not. */
  available(ctx: TransportContext): true | string;
  open(ctx: TransportContext, handlers: TransportHandlers): Transport;
  /** The URL it connects to, for messages. */
  endpoint?(ctx: TransportContext): string;
  /** How to report a connection that did not open within `ms`. */
  timeoutFailure?(connection: Transport, ms: number): { symptom: TransportSymptom; detail: string; ambiguous: boolean };
}

export declare const websocketTransport: TransportFactory;
/** Server-Sent Events (EventSource, or fetch streaming where there is none) plus POSTed commands. */
export declare const sseTransport: TransportFactory;
/** HTTP long-polling with acknowledged batches plus POSTed commands. */
export declare const longPollingTransport: TransportFactory;
/** The default order of preference: `['websocket', 'sse', 'long-polling']`. */
export declare const DEFAULT_TRANSPORTS: readonly TransportName[];

export interface NegotiationOptions {
  /** Ask GET /connection/info which transports the server offers, and whether it is reachable when one fails; default true. */
  info?: boolean;
  /** A transport must open (WebSocket open, SSE session event, long-poll session) within this (ms); default 5000. */
  openTimeout?: number;
  /** The reply to connect must arrive within this after opening (ms); default 5000. */
  helloTimeout?: number;
  /** After connecting, some message (the first heartbeat at the latest) must arrive within this (ms); default ping_ms + pong_ms. */
  noDataTimeout?: number | null;
  /** A connection that closes abnormally within this of opening is short-lived (ms); default 10000. */
  shortLivedMs?: number;
  /** This many short-lived connections in a row demote a transport; default 3. */
  shortLivedCount?: number;
  /** How often a better transport is re-probed in the background (ms, ±25 % jitter); 0 disables; default 300000. */
  reprobeInterval?: number;
  /** Remember the working transport per server URL (in `storage`); default true. */
  remember?: boolean;
  /** How long a remembered transport is trusted (ms); default 7 days. */
  rememberFor?: number;
  /** Report transport failures to POST /connection/report; default true. */
  report?: boolean;
  /** At most one report per transport and symptom per this (ms); default 600000. */
  reportInterval?: number;
}

// ------------------------------------------------------------------ options

export interface HeraldOptions {
  /**
   * The credential sent in `connect`: a string, or a function called before every connection
   * attempt (so that reconnects get a fresh token). Omit (or return null) for cookie sessions.
   */
  token?: string | null | (() => string | null | undefined | Promise<string | null | undefined>);
  /** WebSocket constructor; default globalThis.WebSocket (in Node: pass the `ws` package's). */
  WebSocket?: unknown;
  /** EventSource constructor for SSE; default globalThis.EventSource (fetch streaming without one). */
  EventSource?: unknown;
  /** fetch for the HTTP transports, /connection/info and reports; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Where the working transport and report times are remembered; default localStorage; null: nowhere. */
  storage?: HeraldStorage | null;
  /** Endpoint path appended to an http(s) URL; default `/connection/websocket`. */
  websocketPath?: string;
  /** Your application's name/version, sent in `connect` for diagnostics. */
  client?: string;
  backoff?: {
    /** Ceiling of the first retry delay (ms); default 500. */
    base?: number;
    /** Largest delay ceiling (ms); default 30000. */
    cap?: number;
    /** A connection live this long (ms) resets the backoff; default 10000. */
    resetAfter?: number;
    /** Largest delay ceiling while the page is visible (ms), so it is live again soon after the server is; default 1500. */
    visibleCap?: number;
  };
  /** Time allowed for token + handshake + connect reply (ms); default 10000. */
  connectTimeout?: number;
  /** Time allowed for publish and presence requests, including waiting for a connection (ms); default 10000. */
  requestTimeout?: number;
  liveness?: {
    /** How long a liveness probe (ping) may go unanswered (ms); default 5000. */
    probeTimeout?: number;
    /** Heartbeat check interval (ms); default 10000. */
    checkInterval?: number;
    /** Timer lateness taken as a wake-up from sleep (ms); default 15000 (75000 while hidden). */
    wakeThreshold?: number;
    /** Heartbeat interval asked of the server in `connect` (ms, at least 1000); 0 leaves the server's; default 5000. */
    pingInterval?: number;
    /** Silence past a due heartbeat (ms, at most the server's pong_ms) before the connection counts as dead; default 4000. */
    grace?: number;
  };
  /** No input for this long (ms) makes the user idle; 0 disables; default 300000 (5 min). */
  idleAfter?: number;
  /** Disconnect a tab hidden this long (ms), reconnect when visible; 0 (default) keeps it connected. */
  hiddenTimeout?: number;
  lag?: {
    /** Number of recent samples the statistics cover; default 1000. */
    window?: number;
    /** How often the `lag` event fires (ms) while there are new samples; 0 disables; default 60000. */
    reportInterval?: number;
    /** Send live lag samples to the server (POST /connection/lag) for its metrics; default true. */
    serverReport?: boolean;
    /** How often samples are sent to the server (ms), at most 100 per report; default 30000. */
    serverReportInterval?: number;
  };
  /** Transports in order of preference (names or factories); default ['websocket', 'sse', 'long-polling']. */
  transports?: Array<TransportName | TransportFactory>;
  /** Fallback, re-probe, memory and reporting settings (docs/client-js.md, "Transports"). */
  negotiation?: NegotiationOptions;
  clock?: Clock;
  /** Random source in [0, 1) for jitter; default Math.random. */
  random?: () => number;
  env?: Environment;
}

export interface HeraldEvents {
  state: ConnectionState;
  error: HeraldError;
  lag: LagSnapshot;
  idle: boolean;
}

// ------------------------------------------------------------------ the client

export declare class Herald {
  /**
   * @param url the server's base URL (`https://herald.example.com`, or a path in a page served
   *   with the server), or its WebSocket endpoint (`wss://...`). Omit in a page for its origin.
   */
  constructor(url?: string | URL, options?: HeraldOptions);
  constructor(options?: HeraldOptions);
  /** The server's base URL. */
  readonly url: string;
  /** The current connection state. */
  readonly state: ConnectionState;
  /** Whether the user is idle (no input for `idleAfter`). */
  readonly idle: boolean;
  /** Starts (or resumes) connecting; returns this. */
  connect(): this;
  /** Disconnects and stops; subscriptions are kept for a later connect(). */
  close(): void;
  /** Resolves when live; rejects if the client stops first or after `timeout` ms. */
  ready(options?: { timeout?: number }): Promise<LiveState>;
  /** Subscribes; throws HeraldError 105 if this client is already subscribed to the channel. */
  subscribe<T = unknown>(channel: string, options?: SubscribeOptions<T>): Subscription<T>;
  /** The active subscription to a channel, if any. */
  subscription(channel: string): Subscription | undefined;
  /** All active subscriptions. */
  subscriptions(): Subscription[];
  /** Publishes to a channel that allows client publishing; resolves with the position. */
  publish(channel: string, data: unknown): Promise<StreamPosition>;
  on<K extends keyof HeraldEvents>(type: K, listener: (value: HeraldEvents[K]) => void): () => void;
  off<K extends keyof HeraldEvents>(type: K, listener: (value: HeraldEvents[K]) => void): void;
  /** Counts the user as active now. */
  markActive(): void;
  stats(): HeraldStats;
}

/** `new Herald(url, options).connect()`. */
export declare function connect(url?: string | URL, options?: HeraldOptions): Herald;

// ------------------------------------------------------------------ errors and codes

export declare const ErrorCodes: Readonly<{
  INTERNAL: 100;
  UNAUTHORIZED: 101;
  UNKNOWN_CHANNEL: 102;
  PERMISSION_DENIED: 103;
  METHOD_NOT_FOUND: 104;
  ALREADY_SUBSCRIBED: 105;
  LIMIT_EXCEEDED: 106;
  BAD_REQUEST: 107;
  NOT_AVAILABLE: 108;
  TOKEN_EXPIRED: 109;
  NOT_SUBSCRIBED: 110;
  TOO_MANY_REQUESTS: 111;
  NOT_CONNECTED: 112;
  ALREADY_CONNECTED: 113;
  PAYLOAD_TOO_LARGE: 114;
  UNAVAILABLE: 115;
  STREAM_RESET: 116;
  USER_MISMATCH: 117;
}>;

export declare const ClientErrorCodes: Readonly<{
  TIMEOUT: 'timeout';
  CONNECTION_LOST: 'connection_lost';
  CLOSED: 'closed';
  OFFLINE: 'offline';
  TOKEN: 'token';
  TRANSPORT: 'transport';
  PROTOCOL: 'protocol';
  ORIGIN: 'origin_refused';
}>;

export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

export declare const CloseCodes: Readonly<{
  NORMAL: 1000;
  GOING_AWAY: 1001;
  PROTOCOL_ERROR: 1002;
  UNSUPPORTED_DATA: 1003;
  ABNORMAL: 1006;
  INVALID_PAYLOAD: 1007;
  MESSAGE_TOO_BIG: 1009;
  INTERNAL_ERROR: 1011;
  SERVER_RESTART: 4001;
  HEARTBEAT_TIMEOUT: 4002;
  SLOW_CONSUMER: 4003;
  CONNECT_TIMEOUT: 4004;
  TOKEN_EXPIRED: 4005;
  TOO_MANY_REQUESTS: 4006;
  RECONNECT: 4007;
  TOO_MANY_CONNECTIONS: 4008;
  UNAUTHORIZED: 4500;
  REFUSED: 4501;
  UNSUPPORTED_PROTOCOL: 4502;
}>;

export declare class HeraldError extends Error {
  constructor(code: number | ClientErrorCode, message: string, details?: { channel?: string; closeCode?: number; cause?: unknown });
  readonly name: 'HeraldError';
  /** A protocol error code (number) or a client-side one (string). */
  code: number | ClientErrorCode;
  /** `permission_denied`, `timeout`, ...; unknown numbers read `internal`. */
  codeName: string;
  /** The channel the failed operation concerned. */
  channel?: string;
  /** The close code that came with it. */
  closeCode?: number;
  /** Whether the same operation can succeed later as it is. */
  readonly retryable: boolean;
  static fromProtocol(error: { code?: number; message?: string }, details?: { channel?: string; closeCode?: number }): HeraldError;
}

/** `'stop'` for 1000 and 4500-4999, `'reconnect'` otherwise (protocol section 8). */
export declare function closeAction(code: number | null | undefined): 'reconnect' | 'stop';
/** Splits `<text>; retry_ms=<n>`. */
export declare function parseCloseReason(reason: string | undefined): { text: string; retryMs: number | null };

/** Groups per-connection presence by user (several tabs count once). */
export declare function groupByUser(clients: Iterable<ClientPresence>, selfUser?: string | null): UserPresence[];

/** Exponential backoff with full jitter. */
export declare class Backoff {
  constructor(options?: { base?: number; cap?: number; random?: () => number });
  readonly base: number;
  readonly cap: number;
  /** Delay ceiling for retry number `attempt` (0-based). */
  ceiling(attempt: number): number;
  /** A delay in [0, ceiling(attempt)). */
  delay(attempt: number): number;
}

/** Lag statistics over a sliding window. */
export declare class LagStats {
  constructor(window?: number);
  add(ms: number): void;
  snapshot(): LagSnapshot;
  reset(): void;
}

// ---------------------------------------------------------------- sync (sync.js)

/** An event as herald-outbox publishes it: `seq` counts 1, 2, 3, ... per channel. */
export interface ChangeEvent<D = unknown> {
  seq: number;
  type: string;
  id?: string;
  action?: 'created' | 'updated' | 'deleted';
  version?: number;
  data: D;
}

/** What `changes(since)` resolves to: herald-outbox's ChangePage (docs/outbox.md). */
export interface ChangePage<E extends ChangeEvent = ChangeEvent> {
  /** Continue from here: the channel's newest seq (`more: false`) or the last one read (`more: true`). */
  seq: number;
  more: boolean;
  /** `since` cannot be continued (history removed, or ahead): sync loads a new snapshot. */
  snapshotRequired?: boolean;
  /** Compacted: seqs have gaps by design. */
  changes: E[];
}

export type SyncStatus = 'loading' | 'live' | 'stale' | 'failed' | 'closed';

export interface SyncOptions<S, Snap extends { seq: number } = { seq: number } & Record<string, unknown>, E extends ChangeEvent = ChangeEvent> {
  /** The state and the seq it is current to (read the seq first, then the state). */
  snapshot: () => Promise<Snap>;
  /** The events after `since` (herald-outbox's "changes since"). */
  changes: (since: number) => Promise<ChangePage<E>>;
  /** Applies one event: return the new state, or nothing after changing `state` in place. */
  apply: (state: S, event: E) => S | void;
  /** Makes the state from a snapshot (default: the snapshot itself). */
  init?: (snapshot: Snap) => S;
  /** More subscribe options (presence handlers, onError); not onPublication, onStateLost, onSubscribed. */
  subscribe?: Omit<SubscribeOptions<E>, 'onPublication' | 'onStateLost' | 'onSubscribed' | 'since'>;
  /** How long to wait for the subscription before loading the snapshot anyway (ms, default 2000). */
  readyTimeout?: number;
  /** Delay before retrying a failed fetch (ms, default 1000), doubling up to `retryMax` (default 30000). */
  retryMin?: number;
  retryMax?: number;
  /** Timers (default: the global ones); tests pass a fake clock. */
  clock?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void };
}

export interface SyncChange<S, E extends ChangeEvent = ChangeEvent> {
  state: S;
  /** The events just applied, in seq order (empty for a snapshot). */
  events: E[];
  /** true when a snapshot replaced the state: render everything. */
  reset: boolean;
}

/** A local copy of a channel's state, kept current by its events (docs/client-js.md, "Live data"). */
export declare class ChannelSync<S = unknown, E extends ChangeEvent = ChangeEvent> {
  constructor(herald: Herald, channel: string, options: SyncOptions<S, any, E>);
  readonly channel: string;
  /** undefined until the first snapshot is in. */
  readonly state: S | undefined;
  readonly seq: number;
  readonly status: SyncStatus;
  readonly error: Error | null;
  readonly subscription: Subscription<E>;
  on(type: 'change', listener: (change: SyncChange<S, E>) => void): () => void;
  on(type: 'status', listener: (status: { status: SyncStatus; error: Error | null }) => void): () => void;
  /** Resolves with the state once the first snapshot is in. */
  ready(): Promise<S>;
  /** Fetches the changes since `seq` now. */
  resync(): void;
  /** Loads a new snapshot now. */
  refresh(): void;
  close(): void;
}

/** Subscribes to `channel` and keeps a copy of its state current. */
export declare function sync<S = unknown, Snap extends { seq: number } = any, E extends ChangeEvent = ChangeEvent>(
  herald: Herald,
  channel: string,
  options: SyncOptions<S, Snap, E>,
): ChannelSync<S, E>;

/** Sets `event.data` under `key` unless a version at least as new is there; deletes on `deleted`. Returns whether the map changed. */
export declare function applyEntity<K, V>(map: Map<K, V>, event: ChangeEvent<V>, key?: K): boolean;
