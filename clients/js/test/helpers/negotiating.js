// A Herald client with every transport (WebSocket, SSE, long-polling) on fake time, a fake
// WebSocket and the fake HTTP server of fake-http.js: the setup of the negotiation and proxy tests.

import assert from 'node:assert/strict';
import { Herald } from '../../src/herald.js';
import { FakeClock, FakeEnv, fakeWebSocket } from './fakes.js';
import { MemoryStorage, fakeHttp, settle } from './fake-http.js';

export const URL_ = 'https://herald.test';
/** The storage key of what the client remembers for this origin. */
export const KEY = `herald:transport:${URL_}`;

/** A client with every transport, on fake time, a fake WebSocket and a fake HTTP server. */
export function negotiatingClient(options = {}, { server = fakeHttp(), storage = new MemoryStorage() } = {}) {
  const clock = options.clock ?? new FakeClock();
  const { FakeWebSocket, sockets } = fakeWebSocket();
  const h = { clock, server, storage, sockets, states: [], errors: [], random: 0.5 };
  h.herald = new Herald(URL_, {
    WebSocket: FakeWebSocket,
    EventSource: undefined,
    fetch: (url, init) => server.fetch(url, init),
    storage,
    clock,
    env: new FakeEnv(),
    random: () => h.random,
    token: 'tok',
    ...options,
  });
  h.herald.on('state', (s) => h.states.push(s));
  h.herald.on('error', (e) => h.errors.push(e));
  h.last = () => h.states.at(-1);
  /** Advances time while the server sends every open connection a ping every 20 s, as a real one does. */
  h.advance = async (ms) => {
    for (let left = ms; left > 0; left -= 20_000) {
      for (const s of sockets) if (s.readyState === 1 && s.sent.length > 0) s.receive({ type: 'ping' });
      for (const s of [...server.streams, ...server.polls]) if (!s.closedByClient && s.sent.length > 0) s.receive({ type: 'ping' });
      await settle();
      await clock.advance(Math.min(20_000, left));
    }
  };
  h.stateNames = () => h.states.map((s) => s.state);
  Object.defineProperty(h, 'socket', { get: () => sockets.at(-1) });
  /** Connects over WebSocket with a hello; returns the socket. */
  h.liveOnWebSocket = async () => {
    h.herald.connect();
    await settle();
    h.socket.accept();
    await h.socket.connected();
    return h.socket;
  };
  /** Connects with the WebSocket refused, so that the client falls back to SSE; returns the stream. */
  h.liveOnSse = async () => {
    h.herald.connect();
    await settle();
    h.socket.refuse();
    await settle();
    const stream = server.streams.at(-1);
    await stream.connected();
    assert.equal(h.last().state, 'live');
    assert.equal(h.last().transport, 'sse');
    return stream;
  };
  return h;
}
