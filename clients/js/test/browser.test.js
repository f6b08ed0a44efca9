// herald.js in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser is downloaded). The page is same-origin with the server and imports the module
// the server serves at /herald/herald.js, exactly as an application page would.
// Skipped when HERALD_URL is not set; HERALD_CHROMIUM overrides the browser path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium } from './helpers/chromium.js';
import { HERALD_URL, HERALD_URL_NO_WS, TIMEOUT_MS, TOKEN_A, checkConfig, diagnostics, httpPublish, httpPublishMany, serverTest, uniqueChannel } from './helpers/server.js';

const newContext = useChromium(HERALD_URL, TIMEOUT_MS * 3);

/**
 * Opens a page on the server's origin and starts a Herald client in it that subscribes to
 * `channel`. The page keeps what happens in `window.t`: publications, states, state-lost
 * events, its sockets and event sources. Its token callback can be held (`t.hold()` /
 * `t.release()`) so that the test knows the client is away while it publishes.
 * `base`: the server (default HERALD_URL); `blockWebSocket`: WebSocket handshakes fail the
 * way they do behind a proxy that does not forward the upgrade (a non-101 answer).
 */
async function openPage(t, channel, options = {}, { base = HERALD_URL, blockWebSocket = false } = {}) {
  const context = await newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  await page.goto(`${base}/health/live`);
  await page.evaluate(
    async ({ token, channel, options, timeout, blockWebSocket }) => {
      const { Herald } = await import('/herald/herald.js');
      const t = { pubs: [], states: [], lost: [], subscribed: [], sockets: [], sources: [], errors: [], gate: null, waiting: 0 };
      window.t = t;
      t.hold = () => {
        t.gate = new Promise((r) => (t.open = r));
      };
      t.release = () => {
        t.gate = null;
        t.open();
      };
      // Records the sockets the client opens, so the test can break one.
      class RecordingWebSocket extends WebSocket {
        constructor(url, protocols) {
          super(blockWebSocket ? String(url).replace('/connection/websocket', '/connection/not-upgraded') : url, protocols);
          t.sockets.push(this);
        }
      }
      class RecordingEventSource extends EventSource {
        constructor(url, init) {
          super(url, init);
          t.sources.push(this);
        }
      }
      const herald = new Herald({
        WebSocket: RecordingWebSocket,
        EventSource: RecordingEventSource,
        token: async () => {
          if (t.gate) {
            t.waiting++;
            await t.gate;
          }
          return token;
        },
        ...options,
      });
      t.herald = herald;
      herald.on('state', (s) => t.states.push({ state: s.state, transport: s.transport, transportReason: s.transportReason, reason: s.reason, code: s.code, resume: s.resume }));
      herald.on('error', (e) => t.errors.push(`${e.code}: ${e.message}`));
      const sub = herald.subscribe(channel, {
        onPublication: (p) => t.pubs.push({ i: p.data.i, offset: p.offset, recovered: p.recovered, lagMs: p.lagMs }),
        onStateLost: (l) => t.lost.push(l),
        onSubscribed: (i) => t.subscribed.push(i),
      });
      herald.connect();
      await herald.ready({ timeout });
      await sub.ready();
    },
    { token: TOKEN_A, channel, options, timeout: TIMEOUT_MS, blockWebSocket },
  );
  return { page, context, pageErrors };
}

/** Waits (in the page) until `fn(window.t)` is true. */
function pageUntil(page, fn, arg, what) {
  return page
    .waitForFunction(fn, arg, { timeout: TIMEOUT_MS, polling: 'raf' })
    .catch(async (err) => {
      const t = await page.evaluate(() => ({ states: window.t.states, pubs: window.t.pubs.length, errors: window.t.errors }));
      throw new Error(`timed out waiting in the browser for ${what}: ${err.message}\npage state: ${JSON.stringify(t)}`);
    });
}

test('browser: the served /herald/herald.js connects and receives live publications in order', serverTest, async (t) => {
  checkConfig();
  const channel = uniqueChannel('test', 'browser-live');
  const { page, pageErrors } = await openPage(t, channel);
  const positions = await httpPublishMany(channel, 20);
  await pageUntil(page, (n) => window.t.pubs.length >= n, 20, '20 publications');
  const seen = await page.evaluate(() => window.t);
  assert.deepEqual(seen.pubs.map((p) => p.i), [...Array(20).keys()]);
  assert.deepEqual(seen.pubs.map((p) => p.offset), positions.map((p) => p.offset));
  assert.ok(seen.pubs.every((p) => !p.recovered && Number.isFinite(p.lagMs)));
  assert.deepEqual(seen.states.map((s) => s.state), ['connecting', 'live']);
  assert.equal(seen.states[1].transport, 'websocket');
  assert.equal(seen.states[1].transportReason, 'first choice');
  const stats = await page.evaluate(() => window.t.herald.stats());
  assert.equal(stats.lag.count, 20);
  assert.ok(stats.lag.p50 >= 0 && stats.lag.p99 < 5000, `lag in the browser: ${JSON.stringify(stats.lag)}`);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(seen.errors, []);
});

test('browser: after a forced disconnect the page reconnects and gets what was published meanwhile, once and in order', serverTest, async (t) => {
  checkConfig();
  const channel = uniqueChannel('test', 'browser-recovery');
  const { page } = await openPage(t, channel, { backoff: { base: 100, cap: 1000 } });
  await httpPublishMany(channel, 3, 0);
  await pageUntil(page, () => window.t.pubs.length >= 3, undefined, 'the first 3 publications');

  await page.evaluate(() => {
    window.t.hold();
    window.t.sockets.at(-1).close(4000, 'test: forced disconnect'); // as if the server had dropped us
  });
  await pageUntil(page, () => window.t.waiting >= 1, undefined, 'a reconnect attempt waiting for its token');
  await httpPublishMany(channel, 30, 3);
  await page.evaluate(() => window.t.release());

  await pageUntil(page, () => window.t.pubs.length >= 33, undefined, '33 publications');
  const sentinel = await httpPublish(channel, { i: 33 });
  await pageUntil(page, () => window.t.pubs.length >= 34, undefined, 'the sentinel');
  const seen = await page.evaluate(() => window.t);
  assert.deepEqual(seen.pubs.map((p) => p.i), [...Array(34).keys()], 'every publication exactly once, in order');
  assert.deepEqual(seen.pubs.map((p) => p.recovered), [...Array(34).keys()].map((i) => i >= 3 && i < 33));
  assert.equal(seen.pubs[33].offset, sentinel.offset);
  assert.deepEqual(seen.lost, []);
  assert.equal(seen.subscribed.at(-1).recovered, true);
  assert.equal(seen.subscribed.at(-1).missed, 30);
  const states = seen.states.map((s) => s.state);
  assert.deepEqual(states, ['connecting', 'live', 'reconnecting', 'connecting', 'live']);
  assert.equal(seen.states.at(-1).reason, 'reconnected');
  assert.equal(seen.states[2].transport, 'websocket');
});

test('browser: network offline (real offline event) goes offline and stops retrying; online reconnects at once and recovers', serverTest, async (t) => {
  checkConfig();
  const channel = uniqueChannel('test', 'browser-offline');
  const { page, context } = await openPage(t, channel, { liveness: { probeTimeout: 1500 } });
  await httpPublish(channel, { i: 0 });
  await pageUntil(page, () => window.t.pubs.length >= 1, undefined, 'the first publication');

  await context.setOffline(true); // navigator.onLine = false, `offline` event, network cut
  await pageUntil(page, () => window.t.herald.state.state === 'offline', undefined, 'the offline state');
  const off = await page.evaluate(() => window.t.herald.state);
  assert.equal(off.resume, 'online');
  assert.match(off.reason, /the device went offline/);
  const socketsWhileOffline = await page.evaluate(() => window.t.sockets.length);
  await httpPublishMany(channel, 10, 1); // published while the page is offline

  await context.setOffline(false); // `online` event
  await pageUntil(page, () => window.t.pubs.length >= 11, undefined, 'the publications made while offline');
  const seen = await page.evaluate(() => window.t);
  assert.deepEqual(seen.pubs.map((p) => p.i), [...Array(11).keys()]);
  assert.equal(seen.sockets.length, socketsWhileOffline + 1, 'no attempts while offline, one at once when back online');
  const reconnect = seen.states.slice(seen.states.findIndex((s) => s.state === 'offline'));
  assert.deepEqual(reconnect.map((s) => s.state), ['offline', 'connecting', 'live']);
  assert.match(reconnect[1].reason, /online event/);
  assert.deepEqual(seen.lost, []);
});

test('browser: a WebSocket handshake refused on the way (non-101 answer): falls back to SSE over EventSource, stays live, reports it', serverTest, async (t) => {
  checkConfig();
  const before = (await diagnostics()).counts['websocket/handshake-failed'] ?? 0;
  const channel = uniqueChannel('test', 'browser-fallback');
  const { page, pageErrors } = await openPage(t, channel, {}, { blockWebSocket: true });
  const positions = await httpPublishMany(channel, 20);
  await pageUntil(page, (n) => window.t.pubs.length >= n, 20, '20 publications over SSE');
  const seen = await page.evaluate(() => window.t);
  assert.deepEqual(seen.pubs.map((p) => p.offset), positions.map((p) => p.offset));
  assert.deepEqual(seen.states.map((s) => `${s.state}/${s.transport}`), ['connecting/websocket', 'connecting/sse', 'live/sse']);
  // The browser hides the status: an error before open, and GET /connection/info answering,
  // make it a handshake failure of WebSocket (not an unreachable server).
  assert.match(seen.states[2].transportReason, /^fallback: websocket handshake-failed \(/);
  assert.equal(seen.sockets.length, 1);
  assert.equal(seen.sources.length, 1);
  assert.equal((await diagnostics()).counts['websocket/handshake-failed'], before + 1);
  const remembered = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)), `herald:transport:${HERALD_URL}`);
  assert.equal(remembered.transport, 'sse');
  assert.deepEqual(pageErrors, []);
});

test(
  'browser: /herald/herald.js from a server without WebSocket stays live over SSE (EventSource); a broken stream reconnects and recovers',
  { ...serverTest, skip: serverTest.skip || (HERALD_URL_NO_WS ? false : 'HERALD_URL_NO_WS is not set (HeraldJsIT starts a server with websocket.enabled=false)') },
  async (t) => {
    checkConfig();
    const channel = uniqueChannel('test', 'browser-no-ws');
    const { page, pageErrors } = await openPage(t, channel, { backoff: { base: 100, cap: 1000 } }, { base: HERALD_URL_NO_WS });
    const live = await page.evaluate(() => window.t.herald.state);
    assert.equal(live.transport, 'sse');
    assert.equal(live.transportReason, 'fallback: websocket disabled by the server (/connection/info)');
    await httpPublishMany(channel, 10, 0, HERALD_URL_NO_WS);
    await pageUntil(page, () => window.t.pubs.length >= 10, undefined, '10 publications');

    await page.evaluate(() => {
      window.t.hold();
      // What the browser does when the stream breaks: `error` (the client must not let the
      // EventSource reconnect on its own).
      window.t.sources.at(-1).dispatchEvent(new Event('error'));
    });
    await pageUntil(page, () => window.t.waiting >= 1, undefined, 'a reconnect attempt waiting for its token');
    const closed = await page.evaluate(() => window.t.sources[0].readyState);
    assert.equal(closed, 2, 'the broken EventSource was closed, not left to reconnect');
    await httpPublishMany(channel, 20, 10, HERALD_URL_NO_WS);
    await page.evaluate(() => window.t.release());
    await pageUntil(page, () => window.t.pubs.length >= 30, undefined, '30 publications');
    const seen = await page.evaluate(() => window.t);
    assert.deepEqual(seen.pubs.map((p) => p.i), [...Array(30).keys()], 'every publication once, in order');
    assert.deepEqual(seen.pubs.map((p) => p.recovered), [...Array(30).keys()].map((i) => i >= 10));
    assert.deepEqual(seen.lost, []);
    assert.equal(seen.sockets.length, 0, 'no WebSocket was tried');
    assert.equal(seen.sources.length, 2);
    assert.deepEqual(seen.states.map((s) => `${s.state}/${s.transport}`), ['connecting/websocket', 'connecting/sse', 'live/sse', 'reconnecting/sse', 'connecting/sse', 'live/sse']);
    assert.deepEqual(pageErrors, []);
  },
);
