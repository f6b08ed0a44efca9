// The notifications bell: unread badge, panel with the list, mark read, mark all read; live.
import { sync } from '/herald/herald.js';
import { api } from './api.js';
import { $, clear, h, named, time, toast } from './dom.js';
import { live } from './live.js';

const PAGE = 20;
let data = null;
// The list as the sync keeps it: { items: Map by id, unread, oldest } (oldest: the paging cursor).
let s = null;
// User id to display name, for the @handles in notification texts.
let names = new Map();

export function startBell(state) {
  names = state.users;
  const bell = $('#bell');
  const panel = $('#notifications');
  bell.onclick = () => toggle(!panel.hidden ? false : true);
  // Following a notification's link closes the panel, so that what it links to is visible.
  panel.onclick = (e) => {
    if (e.target.closest('a')) toggle(false);
  };
  panel.onkeydown = (e) => {
    if (e.key === 'Escape') {
      toggle(false);
      bell.focus();
    }
  };
  document.addEventListener('click', (e) => {
    if (!panel.hidden && !panel.contains(e.target) && !bell.contains(e.target)) toggle(false);
  });
  $('#read-all').onclick = async () => {
    try {
      await api.post('/api/notifications/read-all');
      for (const n of s?.items.values() ?? []) n.read = true;
      renderAll();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  $('#notifications-more').onclick = () => loadOlder().catch((e) => toast(e.message, 'error'));
  // sync (herald.js): subscribe, read the newest page, apply events in seq order, fetch what the
  // hub could not replay from /api/notifications/changes.
  data?.close();
  data = sync(live(), `user:${state.me.id}:notifications`, {
    snapshot: () => api.get(`/api/notifications?limit=${PAGE}`),
    changes: (since) => api.get(`/api/notifications/changes?since=${since}`),
    init: (page) => {
      const items = new Map(page.items.map((n) => [n.id, n]));
      $('#notifications-more').hidden = page.items.length < PAGE;
      return { items, unread: page.unread, oldest: page.items.length ? Math.min(...items.keys()) : null };
    },
    apply,
  });
  data.on('change', ({ state: st, events, reset }) => {
    s = st;
    for (const e of events) if (e.type === 'notification' && e.action === 'created' && !lookingAt(e.data.link)) notify(st.items.get(e.data.id) ?? e.data);
    // Projects gained or lost (membership events, or a new snapshot that may have missed some):
    // the projects list and an open project page follow (projects.js, project.js).
    for (const e of events) if (e.type === 'membership') window.dispatchEvent(new CustomEvent('herald:membership', { detail: e }));
    if (reset) window.dispatchEvent(new CustomEvent('herald:membership', { detail: { reset: true } }));
    badge(s.unread);
    renderAll();
  });
  data.on('status', ({ status, error }) => {
    if (error && status === 'loading') toast('Could not load notifications: ' + error.message, 'error');
    else if (error && status === 'stale') toast('Could not refresh notifications: ' + error.message, 'error');
  });

  function toggle(open) {
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    if (open) panel.querySelector('button, a')?.focus();
  }
}

export function stopBell() {
  data?.close();
  data = null;
  s = null;
}

/**
 * Whether the user is looking at what a link points to: its project page is open and the page is
 * visible. Such a notification gets no toast (it stays in the bell); anything else does.
 */
function lookingAt(link) {
  const target = /^\/projects\/(\d+)/.exec(link ?? '');
  const open = /^#\/projects\/(\d+)/.exec(location.hash);
  return document.visibilityState === 'visible' && target !== null && open !== null && target[1] === open[1];
}

/** A toast that names what happened, with names for @handles; a click goes there and marks it read. */
function notify(n) {
  toast(n.subject, 'info', {
    href: linkOf(n), detail: named(n.text.length > 140 ? n.text.slice(0, 139) + '…' : n.text, names), onclick: () => markRead(n),
  });
}

function linkOf(n) {
  return '#' + n.link;
}

/** The next page of older notifications (not part of the sync: older ones do not change by themselves). */
async function loadOlder() {
  if (!s) return;
  const page = await api.get(`/api/notifications?limit=${PAGE}` + (s.oldest !== null ? `&before=${s.oldest}` : ''));
  for (const n of page.items) {
    if (!s.items.has(n.id)) s.items.set(n.id, n);
    s.oldest = s.oldest === null ? n.id : Math.min(s.oldest, n.id);
  }
  $('#notifications-more').hidden = page.items.length < PAGE;
  renderAll();
}

/** Applies one event from the user's channel (repeats were dropped by seq already). */
function apply(st, e) {
  if (e.type === 'notification') {
    st.items.set(e.data.id, { ...st.items.get(e.data.id), ...e.data });
  } else if (e.type === 'notifications' && e.data.allRead) {
    for (const n of st.items.values()) n.read = true;
  } else if (e.type === 'unread') {
    st.unread = e.data.unread;
  }
}

function badge(unread) {
  const b = $('#badge');
  b.hidden = !unread;
  b.textContent = unread > 99 ? '99+' : String(unread);
  $('#bell').setAttribute('aria-label', `Notifications, ${unread} unread`);
}

function renderAll() {
  const list = clear($('#notification-list'));
  const sorted = [...(s?.items.values() ?? [])].sort((a, b) => b.id - a.id);
  $('#notifications-empty').hidden = sorted.length > 0;
  for (const n of sorted) {
    list.append(h('li', { class: n.read ? 'read' : 'unread', 'data-notification': n.id },
      h('a', { href: linkOf(n), onclick: () => markRead(n) },
        h('strong', {}, n.subject), h('span', { class: 'text' }, ...named(n.text, names)), h('span', { class: 'muted small' }, time(n.createdAt))),
      n.read ? null : h('button', { type: 'button', class: 'link small', onclick: () => markRead(n) }, 'Mark read')));
  }
}

async function markRead(n) {
  if (n.read) return;
  try {
    await api.post(`/api/notifications/${n.id}/read`);
    n.read = true;
    renderAll();
  } catch (e) {
    toast(e.message, 'error');
  }
}
