// Transport negotiation on fake time: a fake WebSocket and a fake HTTP server (SSE, long-polling,
// /connection/info, /connection/report). Every failure mode leads to the right fallback with the
// right reason and report; the working transport is remembered; a background re-probe switches
// back without losing or duplicating publications; short-lived and silent transports are demoted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Herald } from '../src/herald.js';
import { FakeClock, FakeEnv } from './helpers/fakes.js';
import { MemoryStorage, fakeHttp, settle } from './helpers/fake-http.js';
import { KEY, URL_, negotiatingClient as setup } from './helpers/negotiating.js';


const reportsOf = (h) => h.server.reports.map((r) => `${r.transport}/${r.symptom}`);

// ------------------------------------------------------------------ the default path

test('default: asks /connection/info, then WebSocket is the first choice; the working transport is remembered', async () => {
  const h = setup();
  h.herald.connect();
  assert.deepEqual(h.stateNames(), ['connecting']);
  assert.equal(h.last().transport, 'websocket');
  await settle();
  assert.equal(h.server.requests[0].path, '/connection/info', 'info first');
  h.socket.accept();
  await h.socket.connected();
  assert.equal(h.last().state, 'live');
  assert.equal(h.last().transportReason, 'first choice');
  assert.equal(h.storage.json(KEY).transport, 'websocket');
  assert.deepEqual(h.server.reports, []);
  assert.deepEqual(h.herald.stats().negotiation.order, ['websocket', 'sse', 'long-polling']);
  h.herald.close();
});

// ------------------------------------------------------------------ WebSocket failure modes

test('websocket handshake refused (error, then close before open) with the server reachable: reported, falls back to SSE at once', async () => {
  const h = setup();
  h.herald.connect();
  await settle();
  h.socket.refuse(); // what a browser shows for a proxy's 200, a 400 upgrade-missing, a 403...
  await settle();
  assert.equal(h.last().state, 'connecting', 'no backoff delay before the fallback');
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.last().transportReason, 'fallback: websocket handshake-failed (the handshake failed (refused, or answered with a non-101 status))');
  assert.match(h.last().reason, /^websocket failed \(handshake-failed: .*\); trying sse$/);
  const stream = h.server.streams[0];
  await stream.connected();
  assert.equal(h.last().state, 'live');
  assert.equal(h.last().transport, 'sse');
  assert.match(h.last().transportReason, /^fallback: websocket handshake-failed/);
  assert.deepEqual(h.server.reports, [{ transport: 'websocket', symptom: 'handshake-failed', detail: 'the handshake failed (refused, or answered with a non-101 status)' }]);
  assert.equal(h.storage.json(KEY).transport, 'sse');
  const stats = h.herald.stats();
  assert.equal(stats.fallbacks, 1);
  assert.equal(stats.transportReports, 1);
  assert.equal(stats.negotiation.demoted.websocket.symptom, 'handshake-failed');
  assert.equal(stats.attempts, 2);
  assert.equal(stats.failedAttempts, 0, 'a fallback is not a failed attempt for the backoff');
  h.herald.close();
});

test('websocket: no open within openTimeout is handshake-failed; the reason says exactly that', async () => {
  const h = setup();
  h.herald.connect();
  await settle();
  await h.clock.advance(4999);
  assert.equal(h.last().transport, 'websocket');
  await h.clock.advance(1);
  await settle();
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.last().transportReason, 'fallback: websocket handshake-failed (no open within 5000 ms)');
  assert.equal(h.sockets[0].closedByClient?.code, 1000, 'the hanging socket is closed');
  assert.deepEqual(reportsOf(h), ['websocket/handshake-failed']);
  assert.equal(h.server.reports[0].detail, 'no open within 5000 ms');
  h.herald.close();
});

test('websocket: closed before open without an error event is closed-before-open; Node ws status messages need no info check', async () => {
  const h = setup();
  h.herald.connect();
  await settle();
  h.socket.drop(); // close 1006, no error event
  await settle();
  assert.equal(h.last().transport, 'sse');
  assert.match(h.last().transportReason, /^fallback: websocket closed-before-open \(the connection closed before open \(code 1006\)\)$/);
  assert.deepEqual(reportsOf(h), ['websocket/closed-before-open']);
  h.herald.close();

  const g = setup();
  g.herald.connect();
  await settle();
  const infoRequests = g.server.requests.length;
  g.socket.refuse('Unexpected server response: 200');
  await settle();
  assert.equal(g.server.requests.filter((r) => r.path === '/connection/info').length, 1, 'the status proves something answered: no second info request');
  assert.ok(g.server.requests.length > infoRequests);
  assert.equal(g.last().transportReason, 'fallback: websocket handshake-failed (Unexpected server response: 200)');
  g.herald.close();
});

test('websocket opens but the server hello (connect reply) never comes: no-hello after helloTimeout', async () => {
  const h = setup({ negotiation: { helloTimeout: 3000 } });
  h.herald.connect();
  await settle();
  h.socket.accept();
  await h.clock.advance(2999);
  assert.equal(h.last().transport, 'websocket');
  await h.clock.advance(1);
  await settle();
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.last().transportReason, 'fallback: websocket no-hello (no reply to connect within 3000 ms of opening)');
  assert.deepEqual(reportsOf(h), ['websocket/no-hello']);
  h.herald.close();
});

test('websocket disabled by the server (/connection/info): not tried at all; SSE with the reason; reported as disabled', async () => {
  const server = fakeHttp();
  server.info.websocket.enabled = false;
  const h = setup({}, { server });
  h.herald.connect();
  await settle();
  assert.equal(h.sockets.length, 0, 'no WebSocket is opened');
  assert.deepEqual(h.stateNames(), ['connecting', 'connecting']);
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.last().transportReason, 'fallback: websocket disabled by the server (/connection/info)');
  await server.streams[0].connected();
  assert.equal(h.last().state, 'live');
  assert.equal(h.last().transportReason, 'fallback: websocket disabled by the server (/connection/info)');
  assert.deepEqual(reportsOf(h), ['websocket/disabled']);
  h.herald.close();
});

test('the server unreachable (WebSocket fails, /connection/info fails too): no fallback, no report, backoff on WebSocket', async () => {
  const server = fakeHttp();
  const h = setup({}, { server });
  h.herald.connect();
  await settle();
  server.down = true;
  h.socket.refuse();
  await settle();
  assert.equal(h.last().state, 'reconnecting');
  assert.equal(h.last().transport, 'websocket');
  assert.match(h.last().reason, /GET \/connection\/info failed too: the server or the network is down, websocket is not to blame/);
  assert.deepEqual(h.server.reports, []);
  assert.deepEqual(h.herald.stats().negotiation.demoted, {});
  server.down = false;
  await h.clock.advance(h.last().delayMs);
  await settle();
  assert.equal(h.last().transport, 'websocket', 'the next attempt is WebSocket again');
  h.socket.accept();
  await h.socket.connected();
  assert.equal(h.last().transportReason, 'first choice');
  h.herald.close();
});

// ------------------------------------------------------------------ SSE buffered, long-polling

test('SSE buffered by a proxy (response starts, no session event): falls back to long-polling, which stays live', async () => {
  const server = fakeHttp();
  server.sseMode = 'buffered';
  const h = setup({}, { server });
  h.herald.connect();
  await settle();
  h.socket.refuse();
  await settle();
  assert.equal(h.last().transport, 'sse');
  await h.clock.advance(5000);
  await settle();
  assert.equal(h.last().transport, 'long-polling');
  assert.equal(
    h.last().transportReason,
    'fallback: websocket handshake-failed (the handshake failed (refused, or answered with a non-101 status)); sse buffered (the response started but no session event came within 5000 ms (a proxy buffers the stream?))',
  );
  assert.equal(server.streams[0].closedByClient, true);
  const lp = server.polls[0];
  await lp.connected();
  assert.equal(h.last().state, 'live');
  const pubs = [];
  h.herald.subscribe('test:lp', { onPublication: (p) => pubs.push(p.offset) });
  await lp.subscribed('test:lp');
  for (let i = 1; i <= 5; i++) lp.pub('test:lp', i);
  await settle();
  assert.deepEqual(pubs, [1, 2, 3, 4, 5]);
  assert.deepEqual(reportsOf(h), ['websocket/handshake-failed', 'sse/buffered']);
  assert.equal(h.storage.json(KEY).transport, 'long-polling');
  h.herald.close();
});

test('every transport failing: demotions are cleared and the client backs off, then starts over from WebSocket', async () => {
  const server = fakeHttp();
  server.sseMode = 'disabled';
  server.pollMode = 'disabled';
  const h = setup({}, { server });
  h.herald.connect();
  await settle();
  h.socket.refuse();
  await settle();
  await settle();
  assert.equal(h.last().state, 'reconnecting');
  assert.match(h.last().reason, /every transport failed, starting over$/);
  assert.deepEqual(reportsOf(h), ['websocket/handshake-failed', 'sse/disabled', 'long-polling/disabled']);
  assert.deepEqual(h.herald.stats().negotiation.demoted, {});
  await h.clock.advance(h.last().delayMs);
  await settle();
  assert.equal(h.last().state, 'connecting');
  assert.equal(h.last().transport, 'websocket');
  h.herald.close();
});

// ------------------------------------------------------------------ useless transports

test('no-data: a transport that connects, then delivers nothing (not even a heartbeat), is demoted', async () => {
  const h = setup();
  const s = await h.liveOnWebSocket();
  await h.clock.advance(28_999);
  assert.equal(h.last().state, 'live');
  await h.clock.advance(1);
  await settle();
  assert.equal(h.last().state, 'connecting');
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.last().transportReason, 'fallback: websocket no-data (connected, then no message within 29000 ms (not even a heartbeat))');
  assert.equal(s.closedByClient?.code, 1000);
  assert.deepEqual(reportsOf(h), ['websocket/no-data']);
  h.herald.close();
});

test('no-data is not triggered by a quiet but working connection (heartbeats arrive)', async () => {
  const h = setup();
  const s = await h.liveOnWebSocket();
  for (let i = 0; i < 6; i++) {
    await h.clock.advance(25_000);
    s.receive({ type: 'ping' });
  }
  assert.equal(h.last().state, 'live');
  assert.equal(h.last().transport, 'websocket');
  h.herald.close();
});

test('short-lived: three connections in a row closing within shortLivedMs demote the transport; server restarts do not count', async () => {
  const h = setup();
  await h.liveOnWebSocket();
  // A server restart (disconnect with a code) right after connecting: not the transport's fault.
  h.socket.receive({ type: 'disconnect', code: 4001, reason: 'server restart', reconnect: true, retry_ms: 100 });
  await h.clock.advance(100);
  await settle();
  for (let i = 1; i <= 3; i++) {
    h.socket.accept();
    await h.socket.connected();
    await h.clock.advance(1000);
    h.socket.drop(); // e.g. a middlebox that kills WebSocket connections after a second
    await settle();
    if (i < 3) {
      assert.equal(h.last().state, 'reconnecting', `drop ${i}: an ordinary reconnect`);
      assert.equal(h.last().transport, 'websocket');
      await h.clock.advance(h.last().delayMs);
      await settle();
    }
  }
  assert.equal(h.last().state, 'connecting');
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.last().transportReason, 'fallback: websocket short-lived (3 connections in a row closed within 10000 ms of opening)');
  assert.deepEqual(reportsOf(h), ['websocket/short-lived']);
  h.herald.close();
});

test('short-lived count resets after a connection that lasted', async () => {
  const h = setup();
  await h.liveOnWebSocket();
  for (const lifetime of [1000, 1000, 20_000, 1000, 1000]) {
    for (let t = 0; t < lifetime; t += 5000) {
      await h.clock.advance(Math.min(5000, lifetime - t));
      h.socket.receive({ type: 'ping' });
    }
    h.socket.drop();
    await settle();
    assert.equal(h.last().state, 'reconnecting');
    await h.clock.advance(h.last().delayMs);
    await settle();
    h.socket.accept();
    await h.socket.connected();
  }
  assert.equal(h.last().transport, 'websocket');
  assert.deepEqual(h.server.reports, []);
  h.herald.close();
});

// ------------------------------------------------------------------ memory and re-probes

test('remembered transport: the next client on this origin starts from it, then re-probes the better one soon', async () => {
  const storage = new MemoryStorage();
  const first = setup({}, { storage });
  await first.liveOnSse();
  first.herald.close();
  assert.equal(storage.json(KEY).transport, 'sse');

  const h = setup({}, { storage });
  h.herald.connect();
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.last().transportReason, 'remembered: sse worked last time on this origin (websocket re-probed in the background)');
  await settle();
  assert.equal(h.sockets.length, 0, 'no WebSocket attempt first');
  const stream = h.server.streams.at(-1);
  await stream.connected();
  assert.equal(h.last().state, 'live');
  // The first re-probe comes within 30 s (±25 %; the fake random gives the middle) after a
  // remembered start.
  await h.advance(29_999);
  assert.equal(h.sockets.length, 0);
  await h.advance(1);
  assert.equal(h.sockets.length, 1, 'WebSocket re-probed in the background');
  assert.equal(h.last().transport, 'sse', 'still live on SSE while probing');
  h.socket.accept();
  await h.socket.connected();
  assert.equal(h.last().state, 'live');
  assert.equal(h.last().transport, 'websocket');
  assert.equal(h.last().transportReason, 're-probe: websocket works (was sse)');
  assert.equal(h.last().reason, 'switched from sse to websocket');
  await settle();
  assert.equal(stream.closedByClient, true, 'the old stream is closed once the switch is done');
  assert.equal(storage.json(KEY).transport, 'websocket');
  assert.equal(h.herald.stats().transportSwitches, 1);
  h.herald.close();
});

test('a stale remembered transport is ignored (rememberFor)', async () => {
  const storage = new MemoryStorage();
  const clock = new FakeClock();
  storage.setItem(KEY, JSON.stringify({ transport: 'long-polling', at: clock.now() - 8 * 24 * 3600_000 }));
  const h = setup({ clock }, { storage });
  h.herald.connect();
  assert.equal(h.last().transport, 'websocket');
  assert.equal(h.last().transportReason, 'first choice');
  h.herald.close();
});

test('re-probe switch: subscriptions move to the new connection with recovery; nothing lost, nothing twice', async () => {
  const h = setup({ negotiation: { reprobeInterval: 60_000 } });
  const stream = await h.liveOnSse();
  const pubs = [];
  const lost = [];
  const subscribed = [];
  const sub = h.herald.subscribe('test:r', { onPublication: (p) => pubs.push(p.offset), onStateLost: (l) => lost.push(l), onSubscribed: (i) => subscribed.push(i) });
  await stream.subscribed('test:r', { epoch: 'E1', offset: 0 });
  for (let i = 1; i <= 3; i++) stream.pub('test:r', i);
  await settle();

  await h.advance(60_000); // 60 s ± 25 % (the fake random gives the middle)
  assert.equal(h.sockets.length, 2, 'the re-probe opened a WebSocket (the first one was refused)');
  const ws = h.socket;
  ws.accept();
  await ws.connected();
  assert.equal(h.last().transport, 'websocket');
  // The subscription was renewed on the WebSocket from the position at the switch...
  const renew = await settle().then(() => ws.take('subscribe'));
  assert.deepEqual(renew.since, { epoch: 'E1', offset: 3 });
  // ...while the old stream still delivers until the renewal is confirmed.
  stream.pub('test:r', 4);
  stream.pub('test:r', 5);
  await settle();
  assert.deepEqual(pubs, [1, 2, 3, 4, 5]);
  ws.reply(renew, { epoch: 'E1', offset: 5, recoverable: true, recovered: true, missed: 2 });
  ws.pub('test:r', 4); // recovered: already delivered by the old stream
  ws.pub('test:r', 5);
  stream.pub('test:r', 6); // the old stream after the renewal: ignored
  ws.pub('test:r', 6);
  ws.pub('test:r', 7);
  await settle();
  assert.deepEqual(pubs, [1, 2, 3, 4, 5, 6, 7], 'every publication once, in order');
  assert.deepEqual(lost, []);
  assert.equal(subscribed.at(-1).recovered, true);
  assert.equal(subscribed.at(-1).missed, 0, 'both missed publications had come over the old stream');
  const stats = h.herald.stats();
  assert.equal(stats.duplicates, 0, 'the overlap is not counted as duplicates');
  assert.equal(stats.gaps, 0);
  assert.equal(stream.closedByClient, true);
  assert.equal(sub.state, 'live');
  h.herald.close();
});

test('re-probe switch on a channel without history: no state lost when the old connection delivered up to the new start', async () => {
  const h = setup({ negotiation: { reprobeInterval: 60_000 } });
  const stream = await h.liveOnSse();
  const pubs = [];
  const lost = [];
  h.herald.subscribe('nohist:x', { onPublication: (p) => pubs.push(p.offset), onStateLost: (l) => lost.push(l) });
  await stream.subscribed('nohist:x', { epoch: 'E1', offset: 10, recoverable: false });
  stream.pub('nohist:x', 11);
  await h.advance(60_000);
  h.socket.accept();
  await h.socket.connected();
  await settle();
  const renew = h.socket.take('subscribe');
  assert.deepEqual(renew.since, { epoch: 'E1', offset: 11 });
  stream.pub('nohist:x', 12); // published between the renewal and its reply
  await settle();
  // History cannot recover, but the old stream delivered 12, which is the new start.
  h.socket.reply(renew, { epoch: 'E1', offset: 12, recoverable: false, recovered: false, missed: 0 });
  h.socket.pub('nohist:x', 13);
  await settle();
  assert.deepEqual(pubs, [11, 12, 13]);
  assert.deepEqual(lost, []);
  h.herald.close();
});

test('re-probe: requests in flight on the old connection still get their replies there', async () => {
  const h = setup({ negotiation: { reprobeInterval: 60_000 } });
  const stream = await h.liveOnSse();
  await h.advance(59_000);
  const published = h.herald.publish('test:p', { x: 1 });
  await settle();
  const req = stream.take('publish');
  await h.advance(1000);
  h.socket.accept();
  await h.socket.connected();
  assert.equal(h.last().transport, 'websocket');
  assert.equal(stream.closedByClient, false, 'kept open while a reply is due');
  stream.reply(req, { epoch: 'E1', offset: 9 });
  assert.deepEqual(await published, { epoch: 'E1', offset: 9 });
  await settle();
  assert.equal(stream.closedByClient, true);
  h.herald.close();
});

test('re-probe that fails: delivery continues on the current transport, the failure is reported, probing continues later', async () => {
  const h = setup({ negotiation: { reprobeInterval: 60_000, reportInterval: 0 } });
  const stream = await h.liveOnSse();
  const pubs = [];
  h.herald.subscribe('test:f', { onPublication: (p) => pubs.push(p.offset) });
  await stream.subscribed('test:f');
  await h.advance(75_000);
  assert.equal(h.sockets.length, 2);
  const statesBefore = h.states.length;
  h.socket.refuse();
  await settle();
  stream.pub('test:f', 1);
  await settle();
  assert.deepEqual(pubs, [1]);
  assert.equal(h.states.length, statesBefore, 'no state change: delivery was never interrupted');
  assert.deepEqual(reportsOf(h), ['websocket/handshake-failed', 'websocket/handshake-failed']);
  await h.advance(75_000);
  assert.equal(h.sockets.length, 3, 'the next round probes again');
  h.herald.close();
});

test('re-probe of a transport demoted for no-data must deliver the first heartbeat before the switch', async () => {
  const h = setup({ negotiation: { reprobeInterval: 60_000 } });
  await h.liveOnWebSocket();
  await h.clock.advance(29_000); // no-data (5 s heartbeat asked, 25 s granted, + 4 s grace): falls back to SSE
  await settle();
  const stream = h.server.streams[0];
  await stream.connected();
  assert.equal(h.last().transport, 'sse');
  await h.advance(60_000);
  const probe = h.socket;
  probe.accept();
  await probe.connected();
  assert.equal(h.last().transport, 'sse', 'connected is not enough for a transport that went silent before');
  stream.receive({ type: 'ping' }); // the live SSE stream keeps its heartbeats
  await h.clock.advance(10_000);
  assert.equal(h.last().transport, 'sse');
  probe.receive({ type: 'ping' }); // the first heartbeat comes through
  await settle();
  assert.equal(h.last().transport, 'websocket');
  assert.equal(probe.sentOf('pong').length, 1);
  h.herald.close();
});

test('no re-probe while live on the best transport, and none with reprobeInterval 0', async () => {
  const h = setup();
  await h.liveOnWebSocket();
  for (let i = 0; i < 12; i++) {
    await h.clock.advance(25_000);
    h.socket.receive({ type: 'ping' });
  }
  assert.equal(h.sockets.length, 1);
  assert.equal(h.herald.stats().reprobes, 0);
  h.herald.close();

  const g = setup({ negotiation: { reprobeInterval: 0 } });
  const stream = await g.liveOnSse();
  for (let i = 0; i < 40; i++) {
    await g.clock.advance(25_000);
    stream.receive({ type: 'ping' });
  }
  assert.equal(g.sockets.length, 1);
  g.herald.close();
});

// ------------------------------------------------------------------ reports

test('reports are rate limited per transport and symptom, also across clients sharing storage', async () => {
  const storage = new MemoryStorage();
  const server = fakeHttp();
  for (let i = 0; i < 2; i++) {
    const h = setup({ negotiation: { remember: false } }, { server, storage });
    await h.liveOnSse();
    h.herald.close();
  }
  assert.deepEqual(server.reports.map((r) => `${r.transport}/${r.symptom}`), ['websocket/handshake-failed']);
  const h = setup({ negotiation: { report: false, remember: false } }, { server: fakeHttp() });
  await h.liveOnSse();
  assert.deepEqual(h.server.reports, [], 'report: false sends none');
  h.herald.close();
});

test('close() during the reachability check cancels the fallback', async () => {
  const h = setup();
  h.herald.connect();
  await settle();
  h.socket.refuse();
  h.herald.close();
  await settle();
  assert.equal(h.last().state, 'offline');
  assert.equal(h.server.streams.length, 0);
});

test('options: transports by name or factory; unknown names and negotiation keys are refused', () => {
  assert.throws(() => new Herald(URL_, { transports: ['carrier-pigeon'] }), /unknown transport 'carrier-pigeon'/);
  assert.throws(() => new Herald(URL_, { transports: ['sse', 'sse'] }), /lists 'sse' twice/);
  assert.throws(() => new Herald(URL_, { transports: [] }), /non-empty array/);
  assert.throws(() => new Herald(URL_, { negotiation: { openTimout: 1 } }), /unknown negotiation option 'openTimout'/);
  assert.throws(() => new Herald(URL_, { negotiation: { openTimeout: 0 } }), RangeError);
  assert.throws(() => new Herald(URL_, { negotiation: { shortLivedCount: 0 } }), RangeError);
});

test('re-probe switch: the old connection dying before the renewal is confirmed loses nothing (history fills in)', async () => {
  const h = setup({ negotiation: { reprobeInterval: 60_000 } });
  const stream = await h.liveOnSse();
  const pubs = [];
  h.herald.subscribe('test:d', { onPublication: (p) => pubs.push(p.offset) });
  await stream.subscribed('test:d', { epoch: 'E1', offset: 0 });
  stream.pub('test:d', 1);
  await h.advance(60_000);
  h.socket.accept();
  await h.socket.connected();
  await settle();
  const renew = h.socket.take('subscribe');
  assert.deepEqual(renew.since, { epoch: 'E1', offset: 1 });
  stream.pub('test:d', 2);
  stream.drop(); // the old connection dies during the switch
  await settle();
  assert.equal(h.last().state, 'live', 'the new connection carries on');
  h.socket.reply(renew, { epoch: 'E1', offset: 3, recoverable: true, recovered: true, missed: 2 });
  h.socket.pub('test:d', 2);
  h.socket.pub('test:d', 3);
  await settle();
  assert.deepEqual(pubs, [1, 2, 3]);
  assert.equal(h.herald.stats().duplicates, 0);
  h.herald.close();
});

test('re-probe of a transport demoted for short-lived connections must stay up shortLivedMs before the switch', async () => {
  const h = setup({ negotiation: { reprobeInterval: 60_000, reportInterval: 0 } });
  await h.liveOnWebSocket();
  for (let i = 0; i < 3; i++) {
    await h.clock.advance(500);
    h.socket.drop();
    await settle();
    if (i < 2) {
      await h.clock.advance(h.last().delayMs);
      await settle();
      h.socket.accept();
      await h.socket.connected();
    }
  }
  const stream = h.server.streams[0];
  await stream.connected();
  assert.equal(h.last().transport, 'sse');
  await h.advance(60_000);
  const probe = h.socket;
  probe.accept();
  await probe.connected();
  stream.receive({ type: 'ping' }); // the live SSE stream keeps its heartbeats
  await h.clock.advance(9_000);
  assert.equal(h.last().transport, 'sse', 'not before it lasted 10 s');
  probe.drop(); // short-lived again: stays on SSE, reported
  await settle();
  assert.equal(h.last().transport, 'sse');
  assert.equal(h.server.reports.at(-1).symptom, 'short-lived');
  assert.match(h.server.reports.at(-1).detail, /^a re-probe closed 9000 ms after opening$/);
  await h.advance(60_000);
  const next = h.socket;
  assert.notEqual(next, probe);
  next.accept();
  await next.connected();
  stream.receive({ type: 'ping' }); // the live SSE stream keeps its heartbeats
  await h.clock.advance(10_000);
  assert.equal(h.last().transport, 'websocket', 'switched once the probe lasted shortLivedMs');
  h.herald.close();
});

test('timers that ran late (the device slept) blame no transport', async () => {
  const h = setup();
  h.herald.connect();
  await settle();
  h.clock.jump(60 * 60_000); // asleep for an hour in the middle of the handshake
  await h.clock.advance(0);
  await settle();
  assert.equal(h.last().state, 'reconnecting');
  assert.equal(h.last().transport, 'websocket');
  assert.match(h.last().reason, /timers ran late: the device was probably asleep/);
  assert.deepEqual(h.server.reports, []);
  assert.deepEqual(h.herald.stats().negotiation.demoted, {});

  // Live, then asleep before the first heartbeat: the liveness check decides, not no-data.
  await h.clock.advance(h.last().delayMs);
  await settle();
  h.socket.accept();
  await h.socket.connected();
  h.clock.jump(60 * 60_000);
  await h.clock.advance(0);
  assert.equal(h.last().state, 'live');
  assert.equal(h.socket.sentOf('ping').length, 1, 'a liveness check instead');
  h.socket.receive({ type: 'pong' });
  await h.clock.advance(10_000);
  assert.equal(h.last().state, 'live');
  assert.deepEqual(h.server.reports, []);
  h.herald.close();
});
