// sync() in real headless Chromium against a real server: the page imports /herald/herald.js,
// its "app backend" (snapshot and changes since) is a list of events kept in the page, and the
// test publishes through the server's HTTP publish API. A publication that never reaches the hub
// leaves a gap that sync fills from the backend; a broken socket is survived. Skipped when
// HERALD_URL is not set (HeraldJsIT sets it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium } from './helpers/chromium.js';
import { HERALD_URL, TIMEOUT_MS, TOKEN_A, checkConfig, httpPublish, serverTest, uniqueChannel } from './helpers/server.js';

const newContext = useChromium(HERALD_URL, TIMEOUT_MS * 3);

/** Waits in the page until `fn(window.t)` holds. */
function until(page, fn, arg, what) {
  return page.waitForFunction(fn, arg, { timeout: TIMEOUT_MS, polling: 'raf' }).catch(async (err) => {
    const t = await page.evaluate(() => ({ applied: window.t.live.state?.applied, status: window.t.live.status, fetches: window.t.fetches }));
    throw new Error(`timed out waiting in the browser for ${what}: ${err.message}\npage state: ${JSON.stringify(t)}`);
  });
}

test('browser: sync keeps a state current, fills a gap from changes since, and survives a broken socket', serverTest, async (t) => {
  checkConfig();
  const channel = uniqueChannel('test', 'sync');
  const context = await newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  await page.goto(`${HERALD_URL}/health/live`);
  await page.evaluate(
    async ({ token, channel, timeout }) => {
      const { Herald, sync } = await import('/herald/herald.js');
      const t = { backend: [], fetches: [], sockets: [], statuses: [] };
      window.t = t;
      class RecordingWebSocket extends WebSocket {
        constructor(url, protocols) {
          super(url, protocols);
          t.sockets.push(this);
        }
      }
      const herald = new Herald({ WebSocket: RecordingWebSocket, token: async () => token });
      herald.connect();
      t.live = sync(herald, channel, {
        snapshot: async () => ({ seq: t.backend.length, applied: t.backend.map((e) => e.seq) }),
        changes: async (since) => {
          t.fetches.push(since);
          return { seq: t.backend.length, more: false, changes: t.backend.filter((e) => e.seq > since) };
        },
        init: (snap) => ({ applied: snap.applied }),
        apply: (state, e) => {
          state.applied.push(e.seq);
        },
      });
      t.live.on('status', (s) => t.statuses.push(s.status));
      await t.live.ready();
      await herald.ready({ timeout });
    },
    { token: TOKEN_A, channel, timeout: TIMEOUT_MS },
  );
  await until(page, () => window.t.live.status === 'live', null, 'live');

  /** The app commits event `seq` (the backend has it) and, unless `lost`, the relay publishes it. */
  const commit = async (seq, lost = false) => {
    const event = { seq, type: 'n', data: { n: seq } };
    await page.evaluate((e) => window.t.backend.push(e), event);
    if (!lost) await httpPublish(channel, event);
  };

  await commit(1);
  await commit(2);
  await until(page, () => window.t.live.state.applied.length === 2, null, 'events 1 and 2');
  await commit(3, true); // never reaches the hub
  await commit(4);
  await until(page, () => window.t.live.state.applied.length === 4, null, 'the gap filled');
  assert.deepEqual(await page.evaluate(() => window.t.live.state.applied), [1, 2, 3, 4]);
  assert.deepEqual(await page.evaluate(() => window.t.fetches), [2]);

  // The network drops: the client reconnects, recovers from the hub's history, goes on.
  await page.evaluate(() => window.t.sockets.at(-1).close(4000, 'test drops the socket'));
  await commit(5);
  await until(page, () => window.t.live.state.applied.length === 5 && window.t.live.status === 'live', null, 'event 5 after the reconnect');
  assert.deepEqual(await page.evaluate(() => window.t.live.state.applied), [1, 2, 3, 4, 5]);
  assert.ok((await page.evaluate(() => window.t.statuses)).includes('stale'), 'stale while the socket was down or the gap open');
  assert.deepEqual(pageErrors, []);
});
