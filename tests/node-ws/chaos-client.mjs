// Chaos client: many subscribers of one channel over WebSocket, SSE and long-polling, written
// from docs/protocol.md only (no Herald library). Each client reconnects and recovers with
// `since` whatever happens to the node it is on, and records what it received, so the caller can
// check exactly-once, in-order delivery (or an explicit refetch signal) for every publication.
//
// Environment:
//   HERALD_URL       base URL (a load balancer in front of the cluster)
//   HERALD_TOKEN     a token for the clients' user
//   CHAOS_CHANNEL    the channel to subscribe to; publications carry {"n": <sequence number>}
//   CHAOS_CLIENTS    clients per transport (default 5)
//   CHAOS_STOP_FILE  when this file exists it holds the last sequence number published: each
//                    client stops once it has it (or 60 s later), then the results are written
//   CHAOS_OUT        where the results go (JSON)
//   CHAOS_READY_FILE written once every client has subscribed
//
// Result per client: {transport, events: [...]}, where an event is {n} for a publication,
// {refetch: reason} where the client was told it cannot continue (recovered:false), and
// {unknown: node, opened, at} for a `404 session-unknown` (node that owned the session, when it
// was opened, when it was refused).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';

const BASE = process.env.HERALD_URL.replace(/\/+$/, '');
const TOKEN = process.env.HERALD_TOKEN;
const CHANNEL = process.env.CHAOS_CHANNEL;
const PER_TRANSPORT = Number(process.env.CHAOS_CLIENTS ?? 5);
const STOP_FILE = process.env.CHAOS_STOP_FILE;
const OUT = process.env.CHAOS_OUT;

process.on('uncaughtException', (e) => console.error('uncaught', e));
process.on('unhandledRejection', (e) => console.error('unhandled', e));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One subscriber: its position and what it saw, across any number of connections. */
class Client {
  constructor(transport, index) {
    this.transport = transport;
    this.name = `${transport}-${index}`;
    this.events = [];
    this.position = null; // {epoch, offset} of the last publication processed
    this.last = -1;
    this.done = false;
  }

  /**
   * Handles one protocol message; `send` sends one message on the current connection, `fail` ends
   * it (the client then reconnects).
   */
  onMessage(m, send, fail) {
    if (m.type === 'ping') {
      send({ type: 'pong' });
    } else if (m.type === 'disconnect') {
      fail(new Error(`disconnected: ${m.code} ${m.reason}`)); // the session is over (section 2)
    } else if (m.type === 'reply' && m.id === 1) {
      if (m.error) {
        fail(new Error(`connect refused: ${JSON.stringify(m.error)}`));
        return;
      }
      this.pingMs = m.result.ping_ms + m.result.pong_ms;
      this.subscribe(send);
    } else if (m.type === 'reply' && m.id === this.subscribeId) {
      if (m.error) {
        // e.g. 115 while the node cannot reach Redis: try again on this connection
        setTimeout(() => this.subscribe(send), 500);
        return;
      }
      const r = m.result;
      if (this.position === null || r.recovered === false) {
        if (this.position !== null) this.events.push({ refetch: 'recovered:false' });
        this.position = { epoch: r.epoch, offset: r.offset };
      }
      this.subscribed = true;
    } else if (m.type === 'pub' && m.channel === CHANNEL) {
      if (!this.subscribed) return; // a publication before the reply cannot happen; ignore
      const p = this.position;
      if (p && m.epoch === p.epoch && m.offset <= p.offset) return; // duplicate: ignored (5.5)
      if (p && (m.epoch !== p.epoch || m.offset !== p.offset + 1)) {
        // A gap: resubscribe with since on this connection, ignoring pubs until the reply.
        this.subscribed = false;
        send({ type: 'unsubscribe', id: this.nextId(), channel: CHANNEL });
        this.subscribe(send);
        return;
      }
      this.position = { epoch: m.epoch, offset: m.offset };
      this.events.push({ n: m.data.n });
      this.last = Math.max(this.last, m.data.n);
    } else if (m.type === 'unsubscribed' && m.channel === CHANNEL) {
      this.subscribed = false;
      this.subscribe(send); // 116: the stream was reset, resubscribe with since
    }
  }

  nextId() {
    this.id = (this.id ?? 1) + 1;
    return this.id;
  }

  subscribe(send) {
    this.subscribeId = this.nextId();
    const msg = { type: 'subscribe', id: this.subscribeId, channel: CHANNEL };
    if (this.position) msg.since = this.position;
    send(msg);
  }

  connectMessage() {
    this.id = 1;
    this.subscribed = false;
    return { type: 'connect', id: 1, token: TOKEN, client: 'herald-chaos/0.1' };
  }

  async run() {
    while (!this.done) {
      try {
        await this[this.transport]();
      } catch (e) {
        // the connection failed or ended: reconnect below
      }
      if (!this.done) await sleep(100 + Math.random() * 400);
    }
  }

  /** Resolves when the connection ends; rejects on failure. */
  websocket() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(BASE.replace(/^http/, 'ws') + '/connection/websocket', 'herald.v1.json');
      const send = (m) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));
      const watchdog = this.watch(() => ws.terminate());
      ws.on('open', () => send(this.connectMessage()));
      ws.on('message', (data) => {
        watchdog.alive();
        for (const line of data.toString().split('\n')) {
          if (line) this.onMessage(JSON.parse(line), send, () => ws.terminate());
        }
        if (this.done) ws.close();
      });
      ws.on('close', () => {
        watchdog.stop();
        resolve();
      });
      ws.on('error', (e) => {
        watchdog.stop();
        reject(e);
      });
    });
  }

  /** Ends the connection when nothing arrived for ping_ms + pong_ms (section 6). */
  watch(kill) {
    let at = Date.now();
    const timer = setInterval(() => {
      if (this.done || Date.now() - at > (this.pingMs ?? 30_000) + 1000) kill();
    }, 250);
    return { alive: () => (at = Date.now()), stop: () => clearInterval(timer) };
  }

  /**
   * A sender over POST /connection/send: one request at a time, in order. Once `ended()` says the
   * client gave the session up, what is still queued goes nowhere (a 404 then is no news).
   */
  sender(session, opened, fail, ended) {
    let chain = Promise.resolve();
    return (m) => {
      chain = chain.then(async () => {
        if (ended()) return;
        const res = await fetch(`${BASE}/connection/send/${session}`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify(m),
        });
        await res.arrayBuffer();
        if (ended()) return;
        if (res.status === 404) this.unknown(session, opened);
        if (res.status >= 300) fail(new Error(`send answered ${res.status}`));
      }).catch(fail);
    };
  }

  unknown(session, opened) {
    this.events.push({ unknown: session.slice(0, session.lastIndexOf('.')), opened, at: Date.now() });
  }

  async sse() {
    const abort = new AbortController();
    const res = await fetch(`${BASE}/connection/sse`, { signal: abort.signal });
    if (res.status !== 200) {
      await res.arrayBuffer();
      throw new Error(`sse answered ${res.status}`);
    }
    const opened = Date.now();
    let send = () => {};
    let failed = null;
    const watchdog = this.watch(() => abort.abort());
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        watchdog.alive();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length === 0) continue;
          if (event === 'session') {
            const session = JSON.parse(data.join('\n')).session;
            send = this.sender(
              session,
              opened,
              (e) => {
                failed = e;
                abort.abort();
              },
              () => abort.signal.aborted,
            );
            send(this.connectMessage());
          } else {
            const fail = (e) => {
              failed = e;
              abort.abort();
            };
            for (const line of data) if (line) this.onMessage(JSON.parse(line), send, fail);
          }
        }
        if (this.done || failed) break;
      }
    } finally {
      watchdog.stop();
      abort.abort();
    }
  }

  async longPolling() {
    const open = await fetch(`${BASE}/connection/poll`, { method: 'POST' });
    if (open.status !== 200) {
      await open.arrayBuffer();
      throw new Error(`poll open answered ${open.status}`);
    }
    const session = (await open.json()).session;
    const opened = Date.now();
    let failed = null;
    let ended = false;
    const send = this.sender(session, opened, (e) => (failed = e), () => ended);
    send(this.connectMessage());
    let ack = 0;
    while (!this.done && !failed) {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 60_000);
      let res;
      try {
        res = await fetch(`${BASE}/connection/poll/${session}?ack=${ack}`, { signal: abort.signal });
      } catch (e) {
        ended = true; // given up: a new session follows
        throw e;
      } finally {
        clearTimeout(timer);
      }
      if (failed) {
        // A send failed meanwhile and the client gave the session up: whatever this poll says
        // (even 404, the server having ended the session since) is no news.
        ended = true;
        await res.arrayBuffer();
        break;
      }
      if (res.status === 200) {
        ack = Number(res.headers.get('X-Herald-Batch'));
        for (const line of (await res.text()).split('\n')) {
          if (line) this.onMessage(JSON.parse(line), send, (e) => (failed = e));
        }
      } else {
        await res.arrayBuffer();
        if (res.status === 404) {
          ended = true;
          this.unknown(session, opened);
          return;
        }
        if (res.status !== 204) {
          ended = true;
          throw new Error(`poll answered ${res.status}`);
        }
      }
    }
    ended = true;
    await fetch(`${BASE}/connection/poll/${session}`, { method: 'DELETE' }).catch(() => {});
  }
}

const clients = [];
for (const transport of ['websocket', 'sse', 'longPolling']) {
  for (let i = 0; i < PER_TRANSPORT; i++) clients.push(new Client(transport, i));
}
const runs = clients.map((c) => c.run());
while (!clients.every((c) => c.position !== null)) await sleep(100);
writeFileSync(process.env.CHAOS_READY_FILE, 'ready');

// Wait for the stop file, then for every client to have the last publication (bounded).
while (!existsSync(STOP_FILE)) await sleep(200);
const last = Number(readFileSync(STOP_FILE, 'utf8').trim());
const deadline = Date.now() + 60_000;
while (Date.now() < deadline && clients.some((c) => c.last < last)) await sleep(200);
for (const c of clients) c.done = true;
await Promise.race([Promise.allSettled(runs), sleep(5_000)]);
writeFileSync(
  OUT,
  JSON.stringify(clients.map((c) => ({ name: c.name, transport: c.transport, events: c.events }))),
);
process.exit(0);
