// The notifications bell: unread badge, panel with the list, mark read, mark all read; live.
import { api } from './api.js';
import { $, clear, fill, h, time, toast } from './dom.js';
import { live, subscribedWithin } from './live.js';

let sub = null;
let seq = 0;
let oldest = null;
const items = new Map();

export function startBell(state) {
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
      for (const n of items.values()) n.read = true;
      renderAll();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  $('#notifications-more').onclick = () => load(oldest);
  items.clear();
  oldest = null;
  // As on the project page: subscribe, then read the list, holding events back until it is in;
  // if not live yet, read it anyway and fetch what was missed once subscribed.
  let loaded = false;
  const held = [];
  sub = live()?.subscribe(`user:${state.me.id}:notifications`, {
    onPublication: (pub) => (loaded ? apply(pub.data) : held.push(pub.data)),
    onStateLost: () => loaded && resync(),
    onSubscribed: (info) => loaded && info.since === null && resync(),
  });
  subscribedWithin(sub).then(async (inOrder) => {
    await load(null);
    loaded = true;
    for (const e of held.splice(0)) apply(e);
    if (!inOrder) resync();
  }).catch((e) => toast('Could not load notifications: ' + e.message, 'error'));

  function toggle(open) {
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    if (open) panel.querySelector('button, a')?.focus();
  }
}

export function stopBell() {
  sub?.unsubscribe();
  sub = null;
}

async function load(before) {
  const page = await api.get('/api/notifications?limit=20' + (before ? `&before=${before}` : ''));
  if (before === null) seq = Math.max(seq, page.seq);
  for (const n of page.items) {
    items.set(n.id, n);
    oldest = oldest === null ? n.id : Math.min(oldest, n.id);
  }
  $('#notifications-more').hidden = page.items.length < 20;
  badge(page.unread);
  renderAll();
}

/** Applies one event from the user's channel; repeats (same or older seq) are dropped. */
function apply(e) {
  if (!e || e.seq <= seq) return;
  seq = e.seq;
  if (e.type === 'notification') {
    const prev = items.get(e.data.id);
    items.set(e.data.id, { ...prev, ...e.data });
    if (e.action === 'created') toast(e.data.subject);
    renderAll();
  } else if (e.type === 'notifications' && e.data.allRead) {
    for (const n of items.values()) n.read = true;
    renderAll();
  } else if (e.type === 'unread') {
    badge(e.data.unread);
  }
}

/** The hub could not fill a gap: ask the app for what changed since our last seq. */
async function resync() {
  try {
    let more = true;
    while (more) {
      const page = await api.get(`/api/notifications/changes?since=${seq}`);
      for (const e of page.changes) apply(e);
      seq = Math.max(seq, page.seq);
      more = page.more;
    }
  } catch (e) {
    toast('Could not refresh notifications: ' + e.message, 'error');
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
  const sorted = [...items.values()].sort((a, b) => b.id - a.id);
  $('#notifications-empty').hidden = sorted.length > 0;
  for (const n of sorted) {
    list.append(h('li', { class: n.read ? 'read' : 'unread', 'data-notification': n.id },
      h('a', { href: '#' + n.link.replace(/^\//, '/'), onclick: () => markRead(n) },
        h('strong', {}, n.subject), h('span', { class: 'text' }, n.text), h('span', { class: 'muted small' }, time(n.createdAt))),
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
