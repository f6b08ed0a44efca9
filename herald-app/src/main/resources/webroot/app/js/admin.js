// The admin console (#/admin, admins only): live counts, top channels, upgrade failures, nodes.
// The first snapshot comes from GET /api/admin/stats; later ones arrive every few seconds on the
// admin-only channel "admin:stats" through Herald itself. Without the channel it polls.
import { api } from './api.js';
import { h, fill, time } from './dom.js';
import { live } from './live.js';

export function adminView(main, state) {
  if (state.me?.role !== 'admin') {
    main.append(h('h1', {}, 'Admin'), h('p', { class: 'error' }, 'The admin console is for administrators only.'));
    return { dispose() {} };
  }
  const updated = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' }, 'Loading…');
  const nodes = h('div');
  const totals = h('div');
  const transports = h('div');
  const channels = h('div');
  const failures = h('div');
  const gaps = h('ul', { class: 'muted small' });
  main.append(
    h('h1', {}, 'Admin console'), updated,
    h('section', { class: 'card', 'aria-labelledby': 'adm-nodes' }, h('h2', { id: 'adm-nodes' }, 'Nodes'), nodes),
    h('section', { class: 'card', 'aria-labelledby': 'adm-totals' }, h('h2', { id: 'adm-totals' }, 'Totals'), totals),
    h('section', { class: 'card', 'aria-labelledby': 'adm-transports' }, h('h2', { id: 'adm-transports' }, 'Connections by transport (since start)'), transports),
    h('section', { class: 'card', 'aria-labelledby': 'adm-channels' }, h('h2', { id: 'adm-channels' }, 'Top channels'), channels),
    h('section', { class: 'card', 'aria-labelledby': 'adm-failures' }, h('h2', { id: 'adm-failures' }, 'Recent upgrade failures'), failures),
    h('section', { class: 'card', 'aria-labelledby': 'adm-gaps' }, h('h2', { id: 'adm-gaps' }, 'Not shown yet'), gaps));

  const table = (head, rows) => h('table', { class: 'admin-table' },
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));

  function render(s) {
    fill(updated, 'Updated ', time(s.at), liveSub ? ' · live' : ' · polling');
    fill(nodes, table(['Node', 'Status', 'Up for'],
      s.nodes.map((n) => [n.name, n.status, `${Math.round(n.uptimeSeconds / 60)} min`])));
    const t = s.totals;
    fill(totals, table(['Connections', 'Authenticated', 'Subscriptions', 'Channels', 'Publications', 'Deliveries', 'Slow consumers'],
      [[t.connections, t.authenticated, t.subscriptions, t.channels, t.publications, t.deliveries, t.slowConsumers]]));
    const live = s.connectionsByTransport ?? {};
    const tr = [...new Set([...Object.keys(live), ...Object.keys(s.connectsByTransport)])].sort()
      .map((k) => [k, live[k] ?? 0, s.connectsByTransport[k] ?? 0]);
    fill(transports, tr.length ? table(['Transport', 'Open now', 'Connected since start'], tr) : h('p', { class: 'empty' }, 'No connections yet.'));
    const unreadable = s.unreadableChannels?.channels ?? 0;
    fill(channels,
      unreadable > 0
        ? h('p', { class: 'error', role: 'alert' },
          `Presence of ${unreadable} channel${unreadable === 1 ? '' : 's'} could not be read (${s.unreadableChannels.reason}): they are missing below.`)
        : null,
      s.topChannels.length
        ? table(['Channel', 'Subscribers', 'Users'], s.topChannels.map((c) => [c.channel, c.subscribers, c.users]))
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
  return {
    dispose() {
      disposed = true;
      liveSub?.unsubscribe();
      clearInterval(poll);
    },
  };
}
