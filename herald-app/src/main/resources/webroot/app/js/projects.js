// The projects list: every project the user may see, live counts, and a form to create one.
import { sync } from '/herald/herald.js';
import { api } from './api.js';
import { h, time, toast } from './dom.js';
import { attempt, field, formError as formErrorLine } from './forms.js';
import { live } from './live.js';

const STATUS = { active: 'Active', publishing: 'Publishing…', publish_failed: 'Publish failed', scheduled: 'Scheduled' };

export function projectsView(main, state) {
  const list = h('ul', { class: 'project-list', 'aria-live': 'polite' });
  const empty = h('p', { class: 'empty', hidden: true }, 'No projects yet. Create the first one below.');
  const syncs = new Map();
  const rows = new Map();

  function row(p) {
    const counts = p.counts ?? {};
    const li = h('li', { class: 'card project', 'data-project': p.id },
      h('a', { href: `#/projects/${p.id}`, class: 'project-name' }, p.name),
      h('span', { class: 'status status-' + p.status }, STATUS[p.status] ?? p.status),
      h('p', { class: 'muted' }, p.description || ''),
      h('p', { class: 'counts' },
        `${counts.draft ?? 0} draft · ${counts.ready ?? 0} ready · ${counts.published ?? 0} published`
        + (counts.rejected ? ` · ${counts.rejected} rejected` : '') + (counts.scheduled ? ` · ${counts.scheduled} scheduled` : '')),
      h('p', { class: 'muted small' }, 'Created by ', state.users.get(p.createdBy) ?? p.createdBy, ' · ', time(p.createdAt)));
    return li;
  }

  function put(p) {
    const old = rows.get(p.id);
    if (old && old.version > p.version) return; // a membership event older than the live state
    const el = row(p);
    if (old) old.el.replaceWith(el);
    else list.append(el);
    rows.set(p.id, { el, version: p.version });
    empty.hidden = rows.size > 0;
  }

  /** Removes a project the user can no longer see. */
  function drop(id) {
    rows.get(id)?.el.remove();
    rows.delete(id);
    empty.hidden = rows.size > 0;
  }

  /** Shows a project and keeps its counts and status live. */
  function follow(p) {
    put(p);
    if (syncs.has(p.id)) return;
    // Live counts and status for each listed project: sync (herald.js) keeps the project current
    // and fetches what the hub could not replay.
    const data = sync(live(), `project:${p.id}`, {
      snapshot: () => api.get(`/api/projects/${p.id}/snapshot?only=project`),
      changes: (since) => api.get(`/api/projects/${p.id}/changes?since=${since}`),
      init: (snap) => ({ project: snap.project }),
      apply: (st, e) => {
        if (e.type === 'project' && e.version > st.project.version) st.project = e.data;
      },
      subscribe: { presence: false, onError: () => {} }, // a project the user lost access to: dropped below
    });
    data.on('change', ({ state, events, reset }) => {
      if (reset || events.some((e) => e.type === 'project')) put(state.project);
    });
    data.on('status', ({ status }) => {
      if (status === 'failed') unfollow(p.id);
    });
    syncs.set(p.id, data);
  }

  function unfollow(id) {
    syncs.get(id)?.close();
    syncs.delete(id);
    drop(id);
  }

  async function load() {
    const projects = await api.get('/api/projects');
    const ids = new Set(projects.map((p) => p.id));
    for (const id of [...rows.keys()].filter((id) => !ids.has(id))) unfollow(id);
    for (const p of projects) follow(p);
    empty.hidden = projects.length > 0;
  }

  // Added to a project, or removed from one (the user's channel, see bell.js): at once.
  function membership({ detail: e }) {
    if (e.reset) load().catch((x) => toast(x.message, 'error'));
    else if (e.action === 'created') follow(e.data);
    else if (state.me.role !== 'admin') unfollow(Number(e.id)); // admins see every project
  }
  window.addEventListener('herald:membership', membership);

  const name = field(h('input', { id: 'new-name', required: true }), { max: 200 });
  const desc = field(h('textarea', { id: 'new-desc', rows: 2 }), { max: 4000 });
  const members = field(h('input', { id: 'new-members', placeholder: 'bob, dave', 'aria-describedby': 'members-help' }));
  const formError = formErrorLine();
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-title', onsubmit: async (e) => {
    e.preventDefault();
    let created = null;
    await attempt({ name, description: desc, members }, formError, async () => {
      created = await api.post('/api/projects', {
        name: name.input.value, description: desc.input.value,
        members: members.input.value.split(/[\s,]+/).map((s) => s.replace(/^@/, '')).filter(Boolean),
      });
    });
    if (created) location.hash = `#/projects/${created.id}`;
  } },
  h('h2', { id: 'new-title' }, 'New project'),
  h('label', { for: 'new-name' }, 'Name'), name.el,
  h('label', { for: 'new-desc' }, 'Description'), desc.el,
  h('label', { for: 'new-members' }, 'Members'), members.el,
  h('p', { id: 'members-help', class: 'muted small' }, 'User names, separated by commas. You are a member anyway.'),
  formError, h('button', { type: 'submit' }, 'Create project'));

  main.append(h('h1', {}, 'Projects'), empty, list, form);
  load().catch((e) => toast(e.message, 'error'));
  return {
    dispose: () => {
      window.removeEventListener('herald:membership', membership);
      syncs.forEach((data) => data.close());
    },
  };
}
