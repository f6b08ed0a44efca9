// herald.js over the HTTP transports and through transport negotiation, against a real Herald
// server (Node: SSE over fetch streaming, long-polling over fetch). Skipped when HERALD_URL is
// not set; herald-server's HeraldJsIT sets it, and HERALD_URL_NO_WS for a second server that
// runs with websocket.enabled=false.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  Collector,
  HERALD_URL,
  HERALD_URL_NO_WS,
  TOKEN_A,
  TOKEN_B,
  USER_A,
  breakableFetch,
  checkConfig,
  clients,
  diagnostics,
  gatedToken,
  httpPublish,
  httpPublishMany,
  serverTest,
  uniqueChannel,
  waitForState,
  withTimeout,
} from './helpers/server.js';
import { MemoryStorage } from './helpers/fake-http.js';

const noWsTest = {
  ...serverTest,
  skip: serverTest.skip || (HERALD_URL_NO_WS ? false : 'HERALD_URL_NO_WS is not set (a server with websocket.enabled=false; HeraldJsIT starts one)'),
};

for (const transport of ['sse', 'long-polling']) {
  test(`server, ${transport} only: live as the token user; 300 publications once and in order; client publish and presence work`, serverTest, async (t) => {
    checkConfig();
    const client = clients(t);
    const { herald } = client(TOKEN_A, { transports: [transport] });
    const channel = uniqueChannel('test', `${transport}-order`);
    const pubs = new Collector();
    const joins = new Collector();
    const sub = herald.subscribe(channel, { onPublication: pubs.push, onJoin: joins.push });
    herald.connect();
    const live = await withTimeout(herald.ready(), 'live');
    assert.equal(live.transport, transport);
    assert.equal(live.transportReason, 'first choice');
    assert.equal(live.user, USER_A);
    const info = await withTimeout(sub.ready(), 'the subscription');
    const positions = await httpPublishMany(channel, 300);
    await pubs.count(300, 'publications');
    assert.deepEqual(pubs.items.map((p) => p.data.i), [...Array(300).keys()]);
    assert.deepEqual(pubs.items.map((p) => p.offset), positions.map((p) => p.offset));
    assert.equal(pubs.items[0].offset, info.position.offset + 1);

    // Commands go up as POSTs, in order: a burst of client publications keeps its order.
    const mine = await withTimeout(Promise.all([...Array(20).keys()].map((i) => herald.publish(channel, { mine: i }))), 'client publications');
    assert.deepEqual(mine.map((p) => p.offset), mine.map((_, i) => positions.at(-1).offset + 1 + i));
    await pubs.count(320, 'own publications');
    assert.deepEqual(pubs.items.slice(300).map((p) => p.data.mine), [...Array(20).keys()]);
    assert.ok(pubs.items.slice(300).every((p) => p.user === USER_A));

    const bob = client(TOKEN_B, { transports: [transport] });
    bob.herald.subscribe(channel, {});
    bob.herald.connect();
    await joins.until((j) => j.some((c) => c.user !== USER_A), "bob's join");
    const stats = herald.stats();
    assert.equal(stats.duplicates, 0);
    assert.equal(stats.gaps, 0);
    assert.equal(stats.transport, transport);
  });

  test(`server, ${transport} only: after the connection is cut the client reconnects and recovers what was published meanwhile`, serverTest, async (t) => {
    checkConfig();
    const client = clients(t);
    const gate = gatedToken(TOKEN_A);
    const fetchFn = breakableFetch();
    const c = client(gate.token, { transports: [transport], fetch: fetchFn, backoff: { base: 100, cap: 1000 } });
    const channel = uniqueChannel('test', `${transport}-recovery`);
    const pubs = new Collector();
    const subscribed = new Collector();
    const lost = new Collector();
    const sub = c.herald.subscribe(channel, { onPublication: pubs.push, onSubscribed: subscribed.push, onStateLost: lost.push });
    c.herald.connect();
    await withTimeout(sub.ready(), 'the subscription');
    await httpPublishMany(channel, 5, 0);
    await pubs.count(5, 'publications before the cut');

    gate.hold();
    fetchFn.cut();
    const reconnecting = await waitForState(c.herald, (s) => s.state === 'reconnecting', 'reconnecting');
    assert.equal(reconnecting.transport, transport);
    await gate.attemptWaiting();
    const missed = await httpPublishMany(channel, 40, 5);
    gate.release();

    const live = await waitForState(c.herald, (s) => s.state === 'live', 'live again');
    assert.equal(live.reason, 'reconnected');
    assert.equal(live.transport, transport);
    await pubs.count(45, 'recovered publications');
    const info = subscribed.items.at(-1);
    assert.equal(info.recovered, true);
    assert.equal(info.missed, 40);
    assert.deepEqual(pubs.items.map((p) => p.data.i), [...Array(45).keys()], 'every publication once, in order');
    assert.deepEqual(pubs.items.slice(5).map((p) => p.offset), missed.map((p) => p.offset));
    assert.ok(pubs.items.slice(5).every((p) => p.recovered));
    assert.deepEqual(lost.items, []);
    const sentinel = await httpPublish(channel, { i: 45 });
    await pubs.count(46, 'a live publication after recovery');
    assert.equal(pubs.items[45].offset, sentinel.offset);
    assert.equal(c.herald.stats().duplicates, 0);
  });
}

test('server, negotiation: a WebSocket refused on the way falls back to SSE at once, stays live, and the server counts the report', serverTest, async (t) => {
  checkConfig();
  const before = (await diagnostics()).counts['websocket/handshake-failed'] ?? 0;
  const client = clients(t);
  // What a proxy that does not forward the upgrade looks like to a client: a non-101 answer.
  class BlockedWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(String(url).replace('/connection/websocket', '/connection/not-upgraded'), protocols);
    }
  }
  const { herald } = client(TOKEN_A, { WebSocket: BlockedWebSocket });
  const states = new Collector();
  herald.on('state', states.push);
  const channel = uniqueChannel('test', 'fallback');
  const pubs = new Collector();
  const sub = herald.subscribe(channel, { onPublication: pubs.push });
  herald.connect();
  const live = await waitForState(herald, (s) => s.state === 'live', 'live');
  assert.equal(live.transport, 'sse');
  assert.match(live.transportReason, /^fallback: websocket handshake-failed \(Unexpected server response: 404\)$/);
  assert.deepEqual(states.items.map((s) => [s.state, s.transport]), [['connecting', 'websocket'], ['connecting', 'sse'], ['live', 'sse']]);
  await withTimeout(sub.ready(), 'the subscription');
  const positions = await httpPublishMany(channel, 50);
  await pubs.count(50, 'publications over SSE');
  assert.deepEqual(pubs.items.map((p) => p.offset), positions.map((p) => p.offset));

  const after = await diagnostics();
  assert.equal(after.counts['websocket/handshake-failed'], before + 1);
  const report = after.recent.find((r) => r.transport === 'websocket' && r.symptom === 'handshake-failed');
  assert.equal(report.detail, 'Unexpected server response: 404');
  assert.equal(herald.stats().transportReports, 1);
});

test('server, negotiation: started from a remembered SSE, the client re-probes WebSocket and switches while publications flow: each once, in order', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const storage = new MemoryStorage();
  storage.setItem(`herald:transport:${HERALD_URL}`, JSON.stringify({ transport: 'sse', at: Date.now() }));
  const { herald } = client(TOKEN_A, { storage, negotiation: { reprobeInterval: 1500 } });
  const states = new Collector();
  herald.on('state', states.push);
  const channel = uniqueChannel('test', 'switch');
  const pubs = new Collector();
  const lost = new Collector();
  const sub = herald.subscribe(channel, { onPublication: pubs.push, onStateLost: lost.push });
  herald.connect();
  const first = await withTimeout(herald.ready(), 'live');
  assert.equal(first.transport, 'sse');
  assert.match(first.transportReason, /^remembered: sse worked last time on this origin/);
  await withTimeout(sub.ready(), 'the subscription');

  // Publish without pause until the client has switched, and some more after.
  let switched = false;
  const switchedAt = waitForState(herald, (s) => s.state === 'live' && s.transport === 'websocket', 'the switch to websocket').then((s) => {
    switched = true;
    return s;
  });
  let i = 0;
  let afterSwitch = 0;
  while (afterSwitch < 30) {
    await httpPublish(channel, { i: i++ });
    if (switched) afterSwitch++;
    if (i > 5000) throw new Error('no switch after 5000 publications');
  }
  const live = await switchedAt;
  assert.equal(live.reason, 'switched from sse to websocket');
  assert.equal(live.transportReason, 're-probe: websocket works (was sse)');
  await pubs.count(i, 'every publication');
  assert.deepEqual(pubs.items.map((p) => p.data.i), [...Array(i).keys()], 'each publication once, in order, across the switch');
  assert.deepEqual(lost.items, []);
  assert.deepEqual(states.items.map((s) => `${s.state}/${s.transport}`), ['connecting/sse', 'live/sse', 'live/websocket']);
  const stats = herald.stats();
  assert.equal(stats.transportSwitches, 1);
  assert.equal(stats.duplicates, 0);
  assert.equal(stats.gaps, 0);
  assert.equal(JSON.parse(storage.getItem(`herald:transport:${HERALD_URL}`)).transport, 'websocket');
});

test('server without WebSocket (websocket.enabled=false): /connection/info sends the client straight to SSE; it stays live and recovers', noWsTest, async (t) => {
  checkConfig();
  const reportsBefore = (await diagnostics(HERALD_URL_NO_WS)).counts['websocket/disabled'] ?? 0;
  const client = clients(t);
  const gate = gatedToken(TOKEN_A);
  const fetchFn = breakableFetch();
  const c = client(gate.token, { url: HERALD_URL_NO_WS, fetch: fetchFn, backoff: { base: 100, cap: 1000 } });
  const channel = uniqueChannel('test', 'no-ws');
  const pubs = new Collector();
  const sub = c.herald.subscribe(channel, { onPublication: pubs.push });
  c.herald.connect();
  const live = await withTimeout(c.herald.ready(), 'live');
  assert.equal(live.transport, 'sse');
  assert.equal(live.transportReason, 'fallback: websocket disabled by the server (/connection/info)');
  assert.equal(c.sockets.length, 0, 'no WebSocket was even tried');
  await withTimeout(sub.ready(), 'the subscription');
  await httpPublishMany(channel, 10, 0, HERALD_URL_NO_WS);
  await pubs.count(10, 'publications');

  gate.hold();
  fetchFn.cut();
  await waitForState(c.herald, (s) => s.state === 'reconnecting', 'reconnecting');
  await gate.attemptWaiting();
  await httpPublishMany(channel, 20, 10, HERALD_URL_NO_WS);
  gate.release();
  await pubs.count(30, 'recovered publications');
  assert.deepEqual(pubs.items.map((p) => p.data.i), [...Array(30).keys()]);
  assert.equal(c.herald.state.transport, 'sse');
  const counts = (await diagnostics(HERALD_URL_NO_WS)).counts;
  assert.equal(counts['websocket/disabled'], reportsBefore + 1, 'reported once, however many attempts');
});
