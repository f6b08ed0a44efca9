// The page-lifecycle policy of docs/client-js.md, on fake time with a simulated environment:
// network online/offline, hidden tabs, back-forward cache, freeze/resume, sleeping laptops.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, setup } from './helpers/fakes.js';

/** A live client with a live subscription on 'test:a' at offset 3. */
async function liveWithSub(options) {
  const h = setup(options);
  const s = await h.live();
  const pubs = [];
  const sub = h.herald.subscribe('test:a', { onPublication: (p) => pubs.push(p.offset) });
  await s.subscribed('test:a', { epoch: 'E1', offset: 3 });
  return { h, s, sub, pubs };
}

/** Plays the handshake of the newest socket and the renewed subscription; returns the subscribe request. */
async function acceptAndRecover(h, result = { epoch: 'E1', offset: 3, recovered: true }) {
  await flush();
  h.socket.accept();
  await h.socket.connected();
  return h.socket.subscribed('test:a', result);
}

test('offline event while reconnecting: stop retrying and report; online: reconnect at once', async () => {
  const h = setup();
  h.random = 0.9999999;
  const s = await h.live();
  s.drop();
  assert.equal(h.last().state, 'reconnecting');
  h.env.goOffline();
  const off = h.last();
  assert.equal(off.state, 'offline');
  assert.equal(off.resume, 'online');
  assert.match(off.reason, /no network/);
  await h.clock.advance(10 * 60_000);
  assert.equal(h.sockets.length, 1, 'no attempts while the device is offline');
  h.env.goOnline();
  assert.equal(h.last().state, 'connecting', 'online: an attempt starts at once, without waiting for a backoff delay');
  assert.equal(h.last().attempt, 0, 'and the backoff starts over');
  await flush();
  assert.equal(h.sockets.length, 2);
  h.herald.close();
});

test('offline event while live: probe the connection; if it is dead go offline until online, then recover', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 3000 } });
  t.h.env.goOffline();
  await flush();
  assert.equal(t.s.sentOf('ping').length, 1, 'a liveness probe is sent');
  assert.equal(t.h.last().state, 'live', 'not dropped before the probe fails');
  await t.h.clock.advance(3000);
  assert.equal(t.h.last().state, 'offline');
  assert.equal(t.h.last().resume, 'online');
  assert.match(t.h.last().reason, /no answer to a liveness check within 3000 ms \(the device went offline/);
  t.h.env.goOnline();
  const req = await acceptAndRecover(t.h);
  assert.deepEqual(req.since, { epoch: 'E1', offset: 3 });
  assert.equal(t.h.last().state, 'live');
  t.h.herald.close();
});

test('offline event while live: a connection that still answers is kept (the flag can be wrong, e.g. for localhost)', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 3000 } });
  t.h.env.goOffline();
  await flush();
  t.s.receive({ type: 'pong' });
  await t.h.clock.advance(10_000);
  assert.equal(t.h.last().state, 'live');
  t.h.herald.close();
});

test('connect() while the device is offline: offline until the online event', async () => {
  const h = setup();
  h.env.onLine = false;
  h.herald.connect();
  assert.equal(h.last().state, 'offline');
  assert.equal(h.last().resume, 'online');
  await flush();
  assert.equal(h.sockets.length, 0);
  h.env.goOnline();
  await flush();
  assert.equal(h.sockets.length, 1);
  h.herald.close();
});

test('becoming visible while live: quick liveness check; a dead connection is replaced at once', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 2000 } });
  t.h.env.hide();
  await t.h.clock.advance(20_000);
  t.h.env.show();
  await flush();
  assert.equal(t.s.sentOf('ping').length, 1);
  await t.h.clock.advance(2000);
  assert.equal(t.h.last().state, 'reconnecting');
  assert.match(t.h.last().reason, /the page became visible/);
  await t.h.clock.advance(t.h.last().delayMs);
  const req = await acceptAndRecover(t.h);
  assert.deepEqual(req.since, { epoch: 'E1', offset: 3 });
  t.h.herald.close();
});

test('becoming visible while live: a healthy connection stays', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 2000 } });
  t.h.env.hide();
  await t.h.clock.advance(5000);
  t.h.env.show();
  await flush();
  t.s.receive({ type: 'pong' });
  await t.h.clock.advance(5000);
  assert.equal(t.h.last().state, 'live');
  assert.equal(t.h.herald.stats().probes, 1);
  t.h.herald.close();
});

test('becoming visible while waiting to reconnect: try now instead of waiting out the backoff', async () => {
  const h = setup({ backoff: { base: 30_000, cap: 30_000 } });
  h.random = 0.9999999;
  const s = await h.live();
  h.env.hide(); // hidden pages back off fully
  s.drop();
  assert.ok(h.last().delayMs > 29_000);
  h.env.show();
  assert.equal(h.last().state, 'connecting');
  await flush();
  assert.equal(h.sockets.length, 2);
  h.herald.close();
});

test('hidden tabs keep their connection by default (answering pings, receiving publications)', async () => {
  const t = await liveWithSub();
  t.h.env.hide();
  for (let i = 1; i <= 60; i++) {
    await t.h.clock.advance(25_000);
    t.s.receive({ type: 'ping' });
    t.s.pub('test:a', 3 + i);
  }
  await flush();
  assert.equal(t.h.last().state, 'live');
  assert.equal(t.s.closedByClient, null);
  assert.equal(t.pubs.length, 60);
  assert.equal(t.s.sentOf('pong').length, 60);
  t.h.herald.close();
});

test('hiddenTimeout: a tab hidden that long disconnects, and reconnects with recovery when visible', async () => {
  const t = await liveWithSub({ hiddenTimeout: 60_000 });
  t.h.env.hide();
  await t.h.advanceWithPings(30_000);
  t.h.env.show(); // visible in between: the timer restarts
  t.h.env.hide();
  await t.h.advanceWithPings(59_999);
  assert.equal(t.h.last().state, 'live');
  await t.h.clock.advance(1);
  assert.equal(t.s.closedByClient?.code, 1000);
  assert.equal(t.h.last().state, 'offline');
  assert.equal(t.h.last().resume, 'visible');
  await t.h.clock.advance(10 * 60_000);
  assert.equal(t.h.sockets.length, 1, 'no attempts while hidden');
  t.h.env.show();
  const req = await acceptAndRecover(t.h);
  assert.deepEqual(req.since, { epoch: 'E1', offset: 3 });
  t.h.herald.close();
});

test('back-forward cache: pagehide closes cleanly; pageshow (persisted) reconnects and recovers', async () => {
  const t = await liveWithSub();
  t.s.pub('test:a', 4);
  t.h.env.fire('pagehide', { persisted: true });
  assert.equal(t.s.closedByClient?.code, 1000, 'a clean close, so the page may enter the bfcache');
  assert.equal(t.h.last().state, 'offline');
  assert.equal(t.h.last().resume, 'pageshow');
  assert.match(t.h.last().reason, /back-forward cache/);
  t.h.env.fire('pageshow', { persisted: false }); // a normal first show changes nothing
  await flush();
  assert.equal(t.h.sockets.length, 1);
  t.h.env.fire('pageshow', { persisted: true });
  const req = await acceptAndRecover(t.h, { epoch: 'E1', offset: 6, recovered: true, missed: 2 });
  assert.deepEqual(req.since, { epoch: 'E1', offset: 4 });
  t.h.socket.pub('test:a', 5);
  t.h.socket.pub('test:a', 6);
  assert.deepEqual(t.pubs, [4, 5, 6]);
  t.h.herald.close();
});

test('freeze closes cleanly; resume reconnects and recovers', async () => {
  const t = await liveWithSub();
  t.h.env.fire('freeze');
  assert.equal(t.s.closedByClient?.code, 1000);
  assert.equal(t.h.last().resume, 'resume');
  t.h.env.fire('resume');
  const req = await acceptAndRecover(t.h);
  assert.deepEqual(req.since, { epoch: 'E1', offset: 3 });
  t.h.herald.close();
});

test('sleeping laptop: timers that run far too late trigger a liveness probe; a dead connection is replaced', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 4000, checkInterval: 10_000, wakeThreshold: 15_000 } });
  await t.h.clock.advance(5000);
  t.h.clock.jump(2 * 60 * 60_000); // two hours asleep: no timer ran
  await t.h.clock.advance(0); // wake-up: overdue timers run now
  assert.equal(t.s.sentOf('ping').length, 1, 'probe sent on wake-up');
  assert.equal(t.h.last().state, 'live', 'no verdict before the probe times out');
  await t.h.clock.advance(4000);
  assert.equal(t.h.last().state, 'reconnecting');
  assert.match(t.h.last().reason, /the device was probably asleep/);
  await t.h.clock.advance(t.h.last().delayMs);
  const req = await acceptAndRecover(t.h);
  assert.deepEqual(req.since, { epoch: 'E1', offset: 3 });
  t.h.herald.close();
});

test('sleeping laptop: a connection that survived a short sleep is kept', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 4000 } });
  t.h.clock.jump(60_000);
  await t.h.clock.advance(0);
  assert.equal(t.s.sentOf('ping').length, 1);
  t.s.receive({ type: 'pong' });
  await t.h.clock.advance(8000);
  assert.equal(t.h.last().state, 'live');
  t.h.herald.close();
});

test('throttled timers in a hidden tab cause no false alarm while messages keep arriving', async () => {
  const t = await liveWithSub();
  t.h.env.hide();
  // Chrome runs timers of long-hidden tabs about once a minute; messages still arrive.
  for (let i = 0; i < 10; i++) {
    for (let k = 0; k < 2; k++) {
      t.h.clock.jump(25_000);
      t.s.receive({ type: 'ping' });
    }
    await t.h.clock.advance(10_000);
  }
  assert.equal(t.h.last().state, 'live');
  assert.equal(t.h.herald.stats().probes, 0, 'not even a probe');
  t.h.herald.close();
});

test('sleeping laptop with the tab hidden: detected too (timers are much later than throttling makes them)', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 4000 } });
  t.h.env.hide();
  t.h.clock.jump(30 * 60_000);
  await t.h.clock.advance(0);
  assert.equal(t.s.sentOf('ping').length, 1);
  await t.h.clock.advance(4000);
  assert.equal(t.h.last().state, 'reconnecting');
  t.h.herald.close();
});

test('online event while live: the connection is verified (it may be bound to the old network)', async () => {
  const t = await liveWithSub({ liveness: { probeTimeout: 1000 } });
  t.h.env.goOnline();
  await flush();
  assert.equal(t.s.sentOf('ping').length, 1);
  await t.h.clock.advance(1000);
  assert.equal(t.h.last().state, 'reconnecting');
  t.h.herald.close();
});
