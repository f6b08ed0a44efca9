// herald.js against a real Herald server (Node, with the `ws` package as WebSocket).
// Skipped when HERALD_URL is not set; herald-server's HeraldJsIT always sets it.
// No fixed sleeps: every wait is for an event, bounded by HERALD_TIMEOUT_MS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Collector,
  TOKEN_A,
  TOKEN_B,
  USER_A,
  USER_B,
  checkConfig,
  clients,
  gatedToken,
  httpPublish,
  httpPublishMany,
  serverTest,
  uniqueChannel,
  waitForState,
  withTimeout,
} from './helpers/server.js';

test('server: connects with a token, live over websocket as the token user', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const { herald } = client(TOKEN_A);
  const states = new Collector();
  herald.on('state', states.push);
  herald.connect();
  const live = await withTimeout(herald.ready(), 'live');
  assert.equal(live.state, 'live');
  assert.equal(live.transport, 'websocket');
  assert.equal(live.transportReason, 'first choice');
  assert.equal(live.user, USER_A);
  assert.match(live.client, /.+/);
  assert.deepEqual(states.items.map((s) => s.state), ['connecting', 'live']);
});

test('server: 300 publications arrive once and in order, with lag measured', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const { herald } = client(TOKEN_A);
  const channel = uniqueChannel('test', 'order');
  const pubs = new Collector();
  const sub = herald.subscribe(channel, { onPublication: pubs.push });
  herald.connect();
  const info = await withTimeout(sub.ready(), 'the subscription');
  const positions = await httpPublishMany(channel, 300);
  await pubs.count(300, 'publications');
  assert.deepEqual(pubs.items.map((p) => p.offset), positions.map((p) => p.offset));
  assert.deepEqual(pubs.items.map((p) => p.data.i), [...Array(300).keys()]);
  assert.equal(pubs.items[0].offset, info.position.offset + 1);
  assert.ok(pubs.items.every((p) => p.epoch === positions[0].epoch && Number.isInteger(p.ts) && p.recovered === false));
  const sentinel = await httpPublish(channel, { sentinel: true });
  await pubs.count(301, 'the sentinel');
  assert.equal(pubs.items.length, 301);
  assert.equal(pubs.items[300].offset, sentinel.offset, 'nothing extra, nothing repeated');

  const lag = herald.stats().lag;
  assert.equal(lag.count, 301);
  // Server and client share this machine's clock here, so lag is real delivery time.
  assert.ok(lag.p50 >= 0 && lag.p99 < 5000, `lag p50 ${lag.p50} ms, p99 ${lag.p99} ms`);
  assert.ok(lag.max >= lag.p99 && lag.p99 >= lag.p90 && lag.p90 >= lag.p50);
});

test('server: after a forced disconnect the client reconnects and publications made while away arrive exactly once, in order', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const gate = gatedToken(TOKEN_A);
  const c = client(gate.token, { backoff: { base: 100, cap: 1000 } });
  const channel = uniqueChannel('test', 'recovery');
  const pubs = new Collector();
  const subscribedInfo = new Collector();
  const lost = new Collector();
  const sub = c.herald.subscribe(channel, { onPublication: pubs.push, onSubscribed: subscribedInfo.push, onStateLost: lost.push });
  c.herald.connect();
  await withTimeout(sub.ready(), 'the subscription');
  await httpPublishMany(channel, 5, 0);
  await pubs.count(5, 'publications before the disconnect');

  gate.hold();
  c.socket().terminate(); // the TCP connection dies without a close frame
  const reconnecting = await waitForState(c.herald, (s) => s.state === 'reconnecting', 'reconnecting');
  assert.equal(reconnecting.code, 1006);
  assert.equal(reconnecting.transport, 'websocket');
  assert.ok(reconnecting.delayMs >= 0 && reconnecting.delayMs < 100);
  await gate.attemptWaiting();
  const missed = await httpPublishMany(channel, 50, 5); // published while the client is away
  gate.release();

  const live = await waitForState(c.herald, (s) => s.state === 'live', 'live again');
  assert.equal(live.reason, 'reconnected');
  await pubs.count(55, 'recovered publications');
  const info = subscribedInfo.items.at(-1);
  assert.equal(info.recovered, true);
  assert.equal(info.missed, 50);
  assert.deepEqual(info.since, { epoch: missed[0].epoch, offset: missed[0].offset - 1 });
  assert.deepEqual(pubs.items.map((p) => p.data.i), [...Array(55).keys()], 'every publication once, in order');
  assert.deepEqual(pubs.items.slice(5).map((p) => p.offset), missed.map((p) => p.offset));
  assert.ok(pubs.items.slice(5).every((p) => p.recovered));
  assert.deepEqual(lost.items, []);

  const sentinel = await httpPublish(channel, { i: 55 });
  await pubs.count(56, 'the first live publication after recovery');
  assert.equal(pubs.items[55].offset, sentinel.offset);
  assert.equal(pubs.items[55].recovered, false);
  const stats = c.herald.stats();
  assert.equal(stats.reconnects, 1);
  assert.equal(stats.duplicates, 0);
  assert.equal(stats.gaps, 0);
  assert.equal(stats.recoveredPublications, 50);
});

test('server: a gap larger than the history (namespace short) calls onStateLost, then continues live', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const gate = gatedToken(TOKEN_A);
  const c = client(gate.token, { backoff: { base: 100, cap: 1000 } });
  const channel = uniqueChannel('short', 'lost');
  const pubs = new Collector();
  const lost = new Collector();
  const sub = c.herald.subscribe(channel, { onPublication: pubs.push, onStateLost: lost.push });
  c.herald.connect();
  await withTimeout(sub.ready(), 'the subscription');
  await httpPublish(channel, { i: 0 });
  await pubs.count(1, 'the first publication');

  gate.hold();
  c.socket().terminate();
  await gate.attemptWaiting();
  const away = await httpPublishMany(channel, 25, 1); // history keeps only 10
  gate.release();

  await lost.count(1, 'onStateLost');
  const l = lost.items[0];
  assert.equal(l.channel, channel);
  assert.deepEqual(l.previous, { epoch: away[0].epoch, offset: away[0].offset - 1 });
  assert.deepEqual(l.position, away.at(-1));
  assert.match(l.reason, /history no longer holds the 25 publications/);
  assert.equal(pubs.items.length, 1, 'nothing from the lost stretch is delivered');
  const next = await httpPublish(channel, { i: 26 });
  await pubs.count(2, 'the next live publication');
  assert.equal(pubs.items[1].offset, next.offset);
  assert.deepEqual(sub.position, next);
});

test('server: presence join/leave across users; tabs of one user count once; activity and idleness are seen', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const channel = uniqueChannel('test', 'presence');
  const alice = client(TOKEN_A);
  const joins = new Collector();
  const leaves = new Collector();
  const changes = new Collector();
  const aliceSub = alice.herald.subscribe(channel, { onJoin: joins.push, onLeave: leaves.push, onPresence: (users) => changes.push(users) });
  alice.herald.connect();
  await withTimeout(aliceSub.ready(), "alice's subscription");
  await changes.until(() => aliceSub.presence.users().some((u) => u.user === USER_A && u.self), 'alice to see herself');

  const bob = client(TOKEN_B, { idleAfter: 300 });
  const bobSub = bob.herald.subscribe(channel, { presence: true });
  bob.herald.connect();
  await joins.until((j) => j.some((c) => c.user === USER_B), "bob's join");

  const aliceTab2 = client(TOKEN_A);
  const tab2Sub = aliceTab2.herald.subscribe(channel, {});
  aliceTab2.herald.connect();
  await withTimeout(tab2Sub.ready(), "alice's second tab");
  await changes.until(() => aliceSub.presence.users().find((u) => u.user === USER_A)?.connections === 2, "alice's second tab in presence");
  const users = aliceSub.presence.users();
  assert.deepEqual(users.map((u) => u.user).sort(), [USER_A, USER_B].sort(), 'two people, however many tabs');
  assert.equal(aliceSub.presence.clients().length, 3);

  assert.equal(await withTimeout(bobSub.setActivity({ editing: 'item:7' }), "bob's presence_set"), true);
  // bob does no input: after 300 ms he is idle, and says so.
  await changes.until(() => {
    const b = aliceSub.presence.users().find((u) => u.user === USER_B);
    return b && b.idle && b.editing.includes('item:7');
  }, 'bob idle while editing item:7');
  bob.herald.markActive();
  await changes.until(() => aliceSub.presence.users().find((u) => u.user === USER_B)?.idle === false, 'bob active again');

  bob.herald.close();
  await leaves.until((l) => l.some((c) => c.user === USER_B), "bob's leave");
  await changes.until(() => !aliceSub.presence.users().some((u) => u.user === USER_B), 'bob gone from presence');
  assert.equal(bob.herald.state.state, 'offline');
});

test('server: client publish reaches another user with the publisher; refused namespaces give typed errors', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const channel = uniqueChannel('test', 'publish');
  const bob = client(TOKEN_B);
  const pubs = new Collector();
  const sub = bob.herald.subscribe(channel, { onPublication: pubs.push });
  bob.herald.connect();
  await withTimeout(sub.ready(), "bob's subscription");

  const alice = client(TOKEN_A);
  alice.herald.connect(); // publish waits for the connection
  const pos = await withTimeout(alice.herald.publish(channel, { text: 'grüße\nzwei Zeilen' }), 'the publish reply');
  await pubs.count(1, "alice's publication at bob");
  assert.equal(pubs.items[0].user, USER_A);
  assert.deepEqual(pubs.items[0].data, { text: 'grüße\nzwei Zeilen' });
  assert.deepEqual({ epoch: pubs.items[0].epoch, offset: pubs.items[0].offset }, pos);

  await assert.rejects(alice.herald.publish(uniqueChannel('short', 'nopub'), 1), (e) => e.code === 108 && e.codeName === 'not_available');
  await assert.rejects(alice.herald.publish('nope:x', 1), (e) => e.code === 102 && e.channel === 'nope:x');
});

test("server: subscribing to another user's personal channel fails with 103; the own one works", serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const { herald } = client(TOKEN_A);
  const errors = new Collector();
  const foreign = herald.subscribe(`user:${USER_B}:notifications`, { onError: errors.push });
  const own = herald.subscribe(`user:${USER_A}:notifications`, {});
  const unknown = herald.subscribe('nope:x', { onError: errors.push });
  herald.connect();
  await assert.rejects(foreign.ready(), (e) => e.code === 103 && e.codeName === 'permission_denied');
  await assert.rejects(unknown.ready(), (e) => e.code === 102);
  await withTimeout(own.ready(), 'the own personal channel');
  assert.equal(foreign.state, 'failed');
  assert.equal(own.state, 'live');
  assert.deepEqual(errors.items.map((e) => e.code).sort(), [102, 103]);
  assert.equal(errors.items.find((e) => e.code === 103).channel, `user:${USER_B}:notifications`);
  assert.equal(herald.state.state, 'live', 'a refused subscription does not affect the connection');
});

test('server: a bad token goes offline with the reason and stays there', serverTest, async (t) => {
  checkConfig();
  const client = clients(t);
  const c = client('not-a-valid-token');
  const states = new Collector();
  c.herald.on('state', states.push);
  c.herald.connect();
  await assert.rejects(withTimeout(c.herald.ready(), 'the refusal'), (e) => e.code === 101 && e.closeCode === 4500);
  const off = c.herald.state;
  assert.equal(off.state, 'offline');
  assert.equal(off.code, 4500);
  assert.equal(off.resume, 'connect');
  assert.match(off.reason, /^authentication failed: /);
  assert.equal(off.error.codeName, 'unauthorized');
  assert.deepEqual(states.items.map((s) => s.state), ['connecting', 'offline']);
  assert.equal(c.sockets.length, 1, 'no retry');
});
