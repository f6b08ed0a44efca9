// The admin console (#/admin, admins only): the cluster's nodes, live counts, top channels and
// upgrade failures, and actions: find a user's connections and disconnect them, look at a
// channel's presence and recent history, publish a test message. Channels are shown by the names
// the app gives them (project names, "Notifications of …"), with Herald's name beside.
// The first snapshot comes from GET /api/admin/stats; later ones arrive every few seconds on the
// admin-only channel "admin:stats" through Herald itself. Without the channel it polls.
// Every action goes through /api/admin/..., which checks the role and writes the audit log.
import { api } from './api.js';
import { h, fill, time } from './dom.js';
import { live } from './live.js';

const TRANSPORTS = { websocket: 'WebSocket', sse: 'Server-Sent Events', 'long-polling': 'Long-polling' };

export function adminView(main, state) {
  if (state.me?.role !== 'admin') {
    main.append(h('h1', {}, 'Admin'), h('p', { class: 'error' }, 'The admin console is for administrators only.'));
    return { dispose() {} };
  }
  const updated = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' }, 'Loading…');
  const nodes = h('div', { id: 'adm-node-list' });
  const totals = h('div');
  const transports = h('div');
  const channels = h('div');
  const failures = h('div');
  const gaps = h('ul', { class: 'muted small' });
  const connections = connectionsCard(state, (channel) => channelCard.show(channel));
  const channelCard = channelView();
  main.append(
    h('h1', {}, 'Admin console'), updated,
    h('section', { class: 'card', 'aria-labelledby': 'adm-nodes' }, h('h2', { id: 'adm-nodes' }, 'Nodes'), nodes),
    connections.el,
    channelCard.el,
    h('section', { class: 'card', 'aria-labelledby': 'adm-totals' }, h('h2', { id: 'adm-totals' }, 'Totals (this node)'), totals),
    h('section', { class: 'card', 'aria-labelledby': 'adm-transports' }, h('h2', { id: 'adm-transports' }, 'Connections by transport (this node)'), transports),
    h('section', { class: 'card', 'aria-labelledby': 'adm-channels' }, h('h2', { id: 'adm-channels' }, 'Top channels'), channels),
    h('section', { class: 'card', 'aria-labelledby': 'adm-failures' }, h('h2', { id: 'adm-failures' }, 'Recent upgrade failures'), failures),
    h('section', { class: 'card', 'aria-labelledby': 'adm-gaps' }, h('h2', { id: 'adm-gaps' }, 'Not shown yet'), gaps));

  function render(s) {
    fill(updated, 'Updated ', time(s.at), liveSub ? ' · live' : ' · polling');
    fill(nodes,
      missing(s.missingNodes),
      table(['Node', 'Status', 'Connections', 'Users', 'Subscriptions', 'Channels', 'Up since'],
        s.nodes.map((n) => [n.name, n.status, n.connections ?? '', n.users ?? '', n.subscriptions ?? '', n.channels ?? '', time(n.startedAt)]),
        { rowKey: (i) => ({ 'data-node': s.nodes[i].name }) }));
    const t = s.totals;
    fill(totals, table(['Connections', 'Authenticated', 'Subscriptions', 'Channels', 'Publications', 'Deliveries', 'Slow consumers'],
      [[t.connections, t.authenticated, t.subscriptions, t.channels, t.publications, t.deliveries, t.slowConsumers]]));
    const open = s.connectionsByTransport ?? {};
    const tr = [...new Set([...Object.keys(open), ...Object.keys(s.connectsByTransport)])].sort()
      .map((k) => [TRANSPORTS[k] ?? k, open[k] ?? 0, s.connectsByTransport[k] ?? 0]);
    fill(transports, tr.length ? table(['Transport', 'Open now', 'Connected since start'], tr) : h('p', { class: 'empty' }, 'No connections yet.'));
    const unreadable = s.unreadableChannels?.channels ?? 0;
    fill(channels,
      unreadable > 0
        ? h('p', { class: 'error', role: 'alert' },
          `Presence of ${unreadable} channel${unreadable === 1 ? '' : 's'} could not be read (${s.unreadableChannels.reason}): they are missing below.`)
        : null,
      s.topChannels.length
        ? table(['Channel', 'Subscribers', 'Users'], s.topChannels.map((c) => [
          channelButton(c.named ?? { channel: c.channel, label: c.channel }, (ch) => channelCard.show(ch)), c.subscribers, c.users]))
        : h('p', { class: 'empty' }, 'No project channel has subscribers.'));
    const counts = Object.entries(s.upgradeFailureCounts);
    fill(failures,
      counts.length ? h('p', { class: 'small' }, counts.map(([k, v]) => `${k}: ${v}`).join(' · ')) : null,
      s.recentUpgradeFailures.length
        ? table(['When', 'Transport', 'Symptom', 'Detail', 'Via'], s.recentUpgradeFailures.map((f) => [time(f.at), f.transport, f.symptom, f.detail ?? '', f.via ?? '']))
        : h('p', { class: 'empty' }, 'No upgrade failures reported.'));
    fill(gaps, s.gaps.map((g) => h('li', {}, g)));
  }

  let liveSub = null;
  let poll = null;
  let disposed = false;
  const load = () => api.get('/api/admin/stats').then((s) => !disposed && render(s)).catch((e) => fill(updated, h('span', { class: 'error' }, e.message)));
  load();
  liveSub = live()?.subscribe('admin:stats', {
    onPublication: (pub) => render(pub.data),
  }) ?? null;
  liveSub?.ready().catch(() => {
    liveSub = null;
    poll = setInterval(load, 5000);
  });
  if (!liveSub) poll = setInterval(load, 5000);
  projectOptions(channelCard.options);
  return {
    dispose() {
      disposed = true;
      liveSub?.unsubscribe();
      clearInterval(poll);
    },
  };
}

/** A table; `opts.rowKey(i)` gives attributes for row i. */
function table(head, rows, opts = {}) {
  return h('table', { class: 'admin-table' },
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r, i) => h('tr', opts.rowKey?.(i) ?? {}, r.map((c) => h('td', {}, c))))));
}

/** Says which nodes did not answer, when some did not: what is shown is then incomplete. */
function missing(nodes) {
  if (!nodes?.length) return null;
  return h('p', { class: 'error', role: 'alert' },
    `No answer from ${nodes.length === 1 ? 'node' : 'nodes'} ${nodes.join(', ')}: what they hold is missing below.`);
}

/** A channel by its app name, as a button that opens it in the channel view; Herald's name beside. */
function channelButton(named, open) {
  return h('span', { class: 'channel-name' },
    h('button', { type: 'button', class: 'link', 'data-channel': named.channel, onclick: () => open(named.channel) }, named.label),
    named.label !== named.channel ? h('code', { class: 'muted small' }, named.channel) : null);
}

/** Fills the channel input's suggestions with the projects (by name) and the admin channel. */
async function projectOptions(list) {
  try {
    const projects = await api.get('/api/projects');
    fill(list, projects.map((p) => h('option', { value: `project:${p.id}` }, p.name)));
  } catch {
    // suggestions only
  }
}

/** "Connections of a user": find, list with channels, disconnect one or all. */
function connectionsCard(state, openChannel) {
  const input = h('input', { id: 'adm-user', list: 'adm-user-list', autocomplete: 'off', required: true, 'aria-describedby': 'adm-user-help' });
  const users = h('datalist', { id: 'adm-user-list' },
    [...state.users].map(([id, name]) => h('option', { value: id }, name)));
  const status = h('p', { class: 'small', id: 'adm-user-status', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { id: 'adm-connections' });
  let shown = null;

  /** A name typed instead of an id ("Alice Lee") is turned into the id. */
  function userId(text) {
    const t = text.trim();
    if (state.users.has(t)) return t;
    const byName = [...state.users].find(([, name]) => name.toLowerCase() === t.toLowerCase());
    return byName ? byName[0] : t;
  }

  async function find(id, note) {
    fill(status, 'Looking…');
    try {
      const r = await api.get(`/api/admin/users/${encodeURIComponent(id)}/connections`);
      shown = id;
      render(r);
      const n = r.connections.length;
      fill(status, note ? note + ' ' : '', `${r.user.displayName} has ${n} connection${n === 1 ? '' : 's'}.`);
    } catch (e) {
      fill(status, h('span', { class: 'error' }, e.message));
      fill(result);
    }
  }

  function render(r) {
    const all = r.connections.length
      ? h('button', { type: 'button', class: 'danger', id: 'adm-disconnect-all', onclick: () => disconnectAll(r.user) },
        `Disconnect all of ${r.user.displayName}’s connections`)
      : null;
    fill(result,
      missing(r.missingNodes),
      r.connections.length
        ? table(['Connection', 'Transport', 'Node', 'Since', 'Channels', ''],
          r.connections.map((c) => [
            h('code', {}, c.id),
            TRANSPORTS[c.transport] ?? c.transport,
            c.node,
            time(c.since),
            c.channels.length
              ? h('ul', { class: 'channel-list' }, c.channels.map((ch) => h('li', {}, channelButton(ch, openChannel))))
              : h('span', { class: 'muted' }, 'none'),
            h('button', { type: 'button', class: 'danger', 'aria-label': `Disconnect ${c.id}`, onclick: () => disconnect(c) }, 'Disconnect'),
          ]),
          { rowKey: (i) => ({ 'data-connection': r.connections[i].id }) })
        : h('p', { class: 'empty' }, `${r.user.displayName} has no live connection.`),
      all);
  }

  async function disconnect(c) {
    try {
      const r = await api.post(`/api/admin/connections/${encodeURIComponent(c.id)}/disconnect`);
      await find(shown, `Disconnected ${r.connection} (the page reconnects on its own).`);
    } catch (e) {
      fill(status, h('span', { class: 'error' }, e.message));
    }
    input.focus();
  }

  async function disconnectAll(user) {
    try {
      const r = await api.post(`/api/admin/users/${encodeURIComponent(user.id)}/disconnect`);
      await find(user.id, `Disconnected ${r.closed} connection${r.closed === 1 ? '' : 's'} of ${user.displayName} (their pages reconnect on their own).`);
    } catch (e) {
      fill(status, h('span', { class: 'error' }, e.message));
    }
    input.focus();
  }

  const form = h('form', { class: 'inline', id: 'adm-find', onsubmit: (e) => {
    e.preventDefault();
    find(userId(input.value));
  } },
  h('label', { for: 'adm-user' }, 'User'), input, users,
  h('button', { type: 'submit' }, 'Find connections'));
  const el = h('section', { class: 'card', 'aria-labelledby': 'adm-conn-title' },
    h('h2', { id: 'adm-conn-title' }, 'Connections of a user'),
    form,
    h('p', { id: 'adm-user-help', class: 'muted small' }, 'User name or id. Every node of the cluster is asked. A disconnected page reconnects on its own at once.'),
    status, result);
  return { el };
}

/** "Channel": presence and recent history of one channel, and a test message to publish there. */
function channelView() {
  const input = h('input', { id: 'adm-channel', list: 'adm-channel-list', autocomplete: 'off', required: true, placeholder: 'project:42', 'aria-describedby': 'adm-channel-help' });
  const options = h('datalist', { id: 'adm-channel-list' });
  const status = h('p', { class: 'small', id: 'adm-channel-status', role: 'status', 'aria-live': 'polite' });
  const view = h('div', { id: 'adm-channel-view' });
  const data = h('textarea', { id: 'adm-publish-data', rows: 3, spellcheck: 'false' }, '{"test": "hello from the admin console"}');
  const publishStatus = h('p', { class: 'small', id: 'adm-publish-status', role: 'status', 'aria-live': 'polite' });
  const publishForm = h('form', { id: 'adm-publish', hidden: true, onsubmit: (e) => {
    e.preventDefault();
    publish();
  } },
  h('h3', {}, 'Publish a test message'),
  h('label', { for: 'adm-publish-data' }, 'Data (JSON)'), data,
  h('p', { class: 'muted small' }, 'Goes to everyone subscribed, through the same path as the app’s own messages. The app’s pages ignore data that is not one of their events.'),
  h('button', { type: 'submit' }, 'Publish test message'), publishStatus);
  let current = null;

  async function show(channel, note) {
    input.value = channel;
    fill(status, 'Loading…');
    try {
      const r = await api.get(`/api/admin/channels/${encodeURIComponent(channel)}?limit=20`);
      current = channel;
      render(r);
      fill(status, note ?? '', note ? ' ' : '', `Showing ${r.channel.label}.`);
      publishForm.hidden = false;
    } catch (e) {
      current = null;
      publishForm.hidden = true;
      fill(view);
      fill(status, h('span', { class: 'error' }, e.message));
    }
  }

  function render(r) {
    const p = r.presence;
    const hist = r.history;
    fill(view,
      h('h3', { id: 'adm-channel-title' }, r.channel.label, ' ', h('code', { class: 'muted small' }, r.channel.channel),
        r.channel.link ? h('a', { href: r.channel.link, class: 'small channel-open' }, 'Open') : null),
      h('h4', {}, 'Present'),
      !p.available
        ? h('p', { class: 'muted' }, `Not available: ${p.reason}`)
        : p.clients.length
          ? h('div', { id: 'adm-presence' },
            h('p', { class: 'small' }, `${p.connections} connection${p.connections === 1 ? '' : 's'} of ${p.users} user${p.users === 1 ? '' : 's'}.`),
            table(['User', 'Connection', 'State'], p.clients.map((c) => [c.displayName, h('code', {}, c.connection), c.state === '{}' ? '' : h('code', { class: 'data' }, c.state)])))
          : h('p', { class: 'empty', id: 'adm-presence' }, 'Nobody is here.'),
      h('h4', {}, 'Recent messages'),
      !hist.available
        ? h('p', { class: 'muted' }, `Not available: ${hist.reason}`)
        : hist.publications.length
          ? table(['Offset', 'When', 'From', 'Data'], hist.publications.map((m) => [m.offset, time(m.at), m.user ?? 'server', h('code', { class: 'data' }, m.data)]),
            { rowKey: (i) => ({ 'data-offset': hist.publications[i].offset }) })
          : h('p', { class: 'empty' }, 'No messages in history.'));
  }

  async function publish() {
    if (!current) return;
    let parsed;
    try {
      parsed = JSON.parse(data.value);
    } catch (e) {
      fill(publishStatus, h('span', { class: 'error' }, 'The data is not valid JSON: ' + e.message));
      data.focus();
      return;
    }
    try {
      const r = await api.post('/api/admin/publish', { channel: current, data: parsed });
      fill(publishStatus, `Published to ${r.channel.label} at offset ${r.offset}.`);
      await show(current);
    } catch (e) {
      fill(publishStatus, h('span', { class: 'error' }, e.message + (e.fields ? ' ' + Object.values(e.fields).join(' ') : '')));
    }
  }

  const form = h('form', { class: 'inline', id: 'adm-channel-form', onsubmit: (e) => {
    e.preventDefault();
    show(input.value.trim());
  } },
  h('label', { for: 'adm-channel' }, 'Channel'), input, options,
  h('button', { type: 'submit' }, 'Show'));
  const el = h('section', { class: 'card', 'aria-labelledby': 'adm-channel-heading' },
    h('h2', { id: 'adm-channel-heading' }, 'Channel'),
    form,
    h('p', { id: 'adm-channel-help', class: 'muted small' }, 'A Herald channel name (project:42, user:alice:notifications); projects are suggested by name. Channel names in the tables above open here.'),
    status, view, publishForm);
  return {
    el,
    options,
    show: (channel) => {
      show(channel);
      el.scrollIntoView({ block: 'start' });
      input.focus({ preventScroll: true });
    },
  };
}
