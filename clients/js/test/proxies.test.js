// Liveness behind proxies, on fake time: a proxy that cuts idle connections sooner than the
// heartbeat, a proxy whose read timeout is shorter than the long-poll hold, and a server that
// refuses the page's origin. The real-proxy versions of these run against nginx in herald-server
// (ProxyLivenessIT).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientErrorCodes } from '../src/herald.js';
import { fakeHttp, settle } from './helpers/fake-http.js';
import { KEY, negotiatingClient } from './helpers/negotiating.js';

/** Answers the newest socket's connect as a server does: the asked heartbeat, at most 25 s. */
async function grant(h) {
  h.socket.accept();
  await settle();
  const asked = h.socket.sent.find((m) => m.type === 'connect')?.ping_ms;
  await h.socket.connected({ ping_ms: Math.min(asked ?? 25_000, 25_000) });
  return h.socket;
}

test('idle cut: a proxy cutting idle WebSockets after 4 s is learned, not blamed; heartbeats every 2 s keep the page on WebSocket', async () => {
  const h = negotiatingClient();
  h.herald.connect();
  await settle();
  h.socket.accept();
  const first = await h.socket.connected({ ping_ms: 5000 });
  assert.equal(first.ping_ms, 5000, 'asks for 5 s heartbeats by default');
  for (let cut = 1; cut <= 2; cut++) {
    await h.clock.advance(4000); // the proxy's idle timeout, shorter than the heartbeat
    h.socket.drop(); // 1006, no close frame
    await settle();
    assert.equal(h.last().state, 'reconnecting');
    assert.equal(h.last().transport, 'websocket', 'no fallback for an idle cut');
    assert.match(h.last().reason, /cut after 4000 ms without traffic \(a proxy's idle timeout\?\)/);
    assert.ok(h.last().delayMs < 1500, 'a visible page reconnects within 1.5 s');
    await h.clock.advance(h.last().delayMs);
    await settle();
    h.socket.accept();
    const connect = await h.socket.connected({ ping_ms: 5000 });
    if (cut === 1) assert.equal(connect.ping_ms, 5000, 'one cut is not a pattern yet');
    else assert.equal(connect.ping_ms, 2000, 'two cuts after the same silence: heartbeats at half of it');
  }
  assert.match(h.states.at(-3).reason, /asking for heartbeats every 2000 ms/);
  const socket = h.socket;
  // Now the server pings every 2 s: the proxy never sees 4 s of silence again.
  for (let i = 0; i < 60; i++) {
    await h.clock.advance(2000);
    socket.receive({ type: 'ping' });
  }
  await settle();
  assert.equal(h.last().state, 'live');
  assert.equal(h.last().transport, 'websocket');
  assert.equal(h.socket, socket, 'no further reconnects once adapted');
  assert.deepEqual(h.server.reports, [], 'nothing reported against WebSocket');
  assert.equal(h.herald.stats().idleCuts, 2);
  assert.equal(h.herald.stats().negotiation.learnedPing, 2000);
  assert.equal(h.storage.json(KEY).pingMs, 2000);
  h.herald.close();

  // The next page load on this origin asks for 2 s heartbeats from the start.
  const next = negotiatingClient({}, { storage: h.storage });
  next.herald.connect();
  await settle();
  next.socket.accept();
  assert.equal((await next.socket.connected()).ping_ms, 2000);
  next.herald.close();
});

test('idle cut: cuts after different silences are no pattern, and a drop before 2 s of silence is a broken transport (short-lived)', async () => {
  const h = negotiatingClient();
  h.herald.connect();
  await settle();
  await grant(h);
  for (const silence of [3000, 4500]) {
    await h.clock.advance(silence);
    h.socket.drop();
    await settle();
    await h.clock.advance(h.last().delayMs);
    await settle();
    assert.equal((await grant(h)).sent[0].ping_ms, 5000, 'nothing learned');
  }
  // Cut 1 s after opening, three times: that is a transport that does not hold, as before.
  for (let i = 1; i <= 3; i++) {
    await h.clock.advance(1000);
    h.socket.drop();
    await settle();
    if (i < 3) {
      await h.clock.advance(h.last().delayMs);
      await settle();
      await grant(h);
    }
  }
  assert.equal(h.last().transport, 'sse');
  assert.deepEqual(h.server.reports.map((r) => r.symptom), ['short-lived']);
  h.herald.close();
});

test('idle cut: an SSE stream cut by a proxy idle timeout is learned the same way, and SSE is not demoted', async () => {
  const h = negotiatingClient();
  let stream = await h.liveOnSse();
  for (let cut = 1; cut <= 2; cut++) {
    await h.clock.advance(3000);
    stream.drop(); // the proxy ends the response after 3 s without data
    await settle();
    assert.equal(h.last().state, 'reconnecting');
    assert.equal(h.last().transport, 'sse');
    await h.clock.advance(h.last().delayMs);
    await settle();
    stream = h.server.streams.at(-1);
    const connect = await stream.connected();
    assert.equal(connect.ping_ms, cut === 1 ? 5000 : 1500);
  }
  assert.equal(h.last().state, 'live');
  assert.equal(h.last().transport, 'sse');
  assert.deepEqual(h.server.reports.map((r) => `${r.transport}/${r.symptom}`), ['websocket/handshake-failed']);
  h.herald.close();
});

test('idle cut: silence longer than the heartbeat allows is a stall, not an idle cut (nothing learned)', async () => {
  const h = negotiatingClient({ transports: ['websocket'] });
  h.herald.connect();
  await settle();
  await grant(h);
  for (let i = 0; i < 2; i++) {
    await h.clock.advance(6500); // 5 s heartbeats: one was due and did not come
    h.socket.drop();
    await settle();
    assert.doesNotMatch(h.last().reason, /idle timeout/);
    await h.clock.advance(h.last().delayMs);
    await settle();
    await grant(h);
  }
  assert.equal(h.herald.stats().idleCuts, 0);
  assert.equal(h.herald.stats().negotiation.learnedPing, null);
  h.herald.close();
});

test('long-polling: a 504 from a proxy on an idle poll shortens the hold, keeps the page live, loses nothing', async () => {
  const h = negotiatingClient({ transports: ['long-polling'] });
  h.herald.connect();
  await settle();
  const lp = h.server.polls[0];
  await lp.connected({ ping_ms: 5000 });
  const pubs = [];
  h.herald.subscribe('test:lp', { onPublication: (p) => pubs.push(p.offset) });
  await lp.subscribed('test:lp');
  await settle();
  assert.equal(lp.holds.at(-1), null, 'the server default hold at first');
  const states = h.states.length;
  await h.clock.advance(3000);
  lp.gatewayTimeout(504); // the proxy's read timeout (3 s) is shorter than the 25 s hold
  await settle();
  assert.equal(lp.holds.at(-1), 1500, 'polls again at once, holding half as long as the proxy waited');
  lp.pub('test:lp', 1); // sent while the client was between polls: the next poll carries it
  await settle();
  for (let i = 0; i < 20; i++) {
    await h.clock.advance(1500);
    lp.timeout(); // the server answers 204 at the hold, before the proxy gives up
    if (i % 3 === 0) lp.receive({ type: 'ping' });
    await settle();
  }
  lp.pub('test:lp', 2);
  await settle();
  assert.deepEqual(pubs, [1, 2]);
  assert.equal(h.states.length, states, 'no state change: never shown to the editor');
  assert.equal(h.last().state, 'live');
  assert.ok(lp.holds.slice(-5).every((x) => x === 1500));
  // A gateway error the moment a poll is made is the server being down, not an idle cut.
  lp.gatewayTimeout(502);
  await settle();
  assert.equal(h.last().state, 'reconnecting');
  h.herald.close();
});

test('origin refused (403 origin-not-allowed): stops with origin_refused and says the site is misconfigured; no retries', async () => {
  const server = fakeHttp();
  const h = negotiatingClient({}, { server });
  server.originRefused = true;
  h.herald.connect();
  await settle();
  // GET /connection/info answered 403 origin-not-allowed: no transport is even tried.
  assert.equal(h.sockets.length, 0);
  assert.equal(h.last().state, 'offline');
  assert.equal(h.last().error.code, ClientErrorCodes.ORIGIN);
  assert.match(h.last().reason, /does not accept connections from this page's origin .*misconfigured/);
  const requests = server.requests.length;
  await h.advance(120_000);
  assert.equal(server.requests.length, requests, 'no retries');
  assert.equal(h.last().state, 'offline');
  h.herald.close();

  // A WebSocket refused by a browser shows no status: the info check after it finds the cause.
  server.originRefused = false;
  const ws = negotiatingClient({}, { server });
  ws.herald.connect();
  await settle();
  server.originRefused = true;
  ws.socket.refuse();
  await settle();
  assert.equal(ws.last().state, 'offline');
  assert.equal(ws.last().error.code, 'origin_refused');
  ws.herald.close();

  // Same origin behind a proxy that rewrites Host: the GETs carry no Origin and pass (info, the
  // SSE stream), the first POST is refused. Stops there too, without a retry.
  server.originRefused = 'post';
  const same = negotiatingClient({}, { server });
  same.herald.connect();
  await settle();
  same.socket.refuse(); // the handshake carries Origin: refused
  await settle();
  await settle();
  assert.equal(same.last().state, 'offline');
  assert.equal(same.last().error.code, 'origin_refused');
  assert.match(same.last().reason, /POST \/connection\/send\/… answered 403 origin-not-allowed/);
  assert.equal(same.stateNames().includes('reconnecting'), false);
  same.herald.close();
  server.originRefused = true;

  // Long-polling sees the 403 itself.
  const lp = negotiatingClient({ transports: ['long-polling'] }, { server });
  lp.herald.connect();
  await settle();
  assert.equal(lp.last().state, 'offline');
  assert.equal(lp.last().error.code, 'origin_refused');
  lp.herald.close();
});
