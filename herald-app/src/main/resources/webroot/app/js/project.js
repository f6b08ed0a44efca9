// The project overview: items, activity feed, publishing and presence, all live.
import { applyEntity, sync } from '/herald/herald.js';
import { api } from './api.js';
import { fill, h, message, time, toast } from './dom.js';
import { ask } from './dialog.js';
import { live } from './live.js';
import { withMentions } from './mentions.js';
import { attempt, field, formError, localDateTime, submitOnCtrlEnter, withOffset, zoneLabel } from './forms.js';

const STATUS = { active: 'Active', publishing: 'Publishing…', publish_failed: 'Publish failed', scheduled: 'Scheduled' };
const FEED_PAGE = 50;
const ITEM_STATUS = { draft: 'Draft', ready: 'Ready to publish', published: 'Published', scheduled: 'Scheduled', rejected: 'Rejected' };

export function projectView(main, projectId, app) {
  // The project as the sync keeps it: { project, items, activities } (maps by id); null while loading.
  let s = null;
  let data = null;
  let sub = null;
  const name = (id) => app.users.get(id) ?? id;
  const mine = (author) => author === app.me.id;

  // ---------------------------------------------------------------- skeleton
  const header = h('section', { class: 'project-header', 'aria-labelledby': 'project-title' });
  const presence = h('section', { class: 'presence', 'aria-label': 'Who is here' });
  const itemsBody = h('tbody', {});
  const itemsEmpty = h('p', { class: 'empty', hidden: true }, 'No items yet. Add a page, block or media version below.');
  const itemsTable = h('table', { class: 'items' },
    h('caption', { class: 'visually-hidden' }, 'Items in this project'),
    h('thead', {}, h('tr', {}, ...['Item', 'Type', 'Status', 'Changed by', 'Changed', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    itemsBody);
  const feed = h('ol', { class: 'feed', 'aria-label': 'Activity' });
  const feedEmpty = h('p', { class: 'empty', hidden: true }, 'No activity yet.');
  // Older activity, a page at a time (the snapshot brings the newest FEED_PAGE).
  const olderButton = h('button', { type: 'button', id: 'feed-older', class: 'secondary', hidden: true, onclick: () => loadOlder() }, 'Show older activity');
  const olderStatus = h('p', { class: 'muted small', role: 'status' });
  // Others' changes, said once in words to screen readers; one's own are not repeated.
  const announcer = h('div', { id: 'project-announcer', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const loading = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  main.append(loading);

  // ---------------------------------------------------------------- presence
  let editingTimer = null;
  function editing(itemId) {
    clearTimeout(editingTimer);
    sub?.setActivity(itemId ? { viewing: `project:${projectId}`, editing: `item:${itemId}` } : { viewing: `project:${projectId}` });
  }
  function stopEditing() {
    clearTimeout(editingTimer);
    editingTimer = setTimeout(() => editing(null), 400);
  }

  /** Who else is here, as presence last said: [{user, editing: ['item:57'], ...}]. */
  let othersHere = [];

  /** The names of the others editing one of these items, e.g. "Bob is editing Home". */
  function editingWarning(items) {
    const notes = [];
    for (const i of items) {
      const who = othersHere.filter((u) => u.editing.includes(`item:${i.id}`)).map((u) => u.info?.name ?? name(u.user));
      if (who.length) notes.push(`${who.join(' and ')} ${who.length > 1 ? 'are' : 'is'} editing “${i.title}” right now.`);
    }
    return notes.length ? notes.join(' ') : null;
  }

  /** Runs `action` at once, or after a warning when someone else is editing the item. */
  async function guarded(item, verb, action) {
    const warning = editingWarning([item]);
    if (warning && !(await ask({ title: `${verb}?`, warning, text: `${verb} “${item.title}” anyway?`, confirm: `${verb} anyway` }))) return;
    await action();
  }

  function renderPresence(users) {
    const others = users.filter((u) => !u.self);
    othersHere = others;
    fill(presence, h('h2', { class: 'visually-hidden' }, 'Who is here'),
      h('span', { class: 'muted' }, others.length ? 'Also here: ' : 'Nobody else is viewing this project.'),
      h('ul', { class: 'people' }, ...others.map((u) => {
        const edits = u.editing.map((e) => s?.items.get(Number(e.replace('item:', '')))?.title ?? e);
        const who = u.info?.name ?? name(u.user);
        return h('li', { class: 'person' + (u.idle ? ' idle' : ''), 'data-user': u.user },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, who.slice(0, 1).toUpperCase()),
          h('span', {}, who, edits.length ? ` — editing ${edits.join(', ')}` : '', u.idle ? ' (idle)' : ''));
      })));
    // Mark rows being edited by someone else.
    for (const [id, row] of rowEls) row.classList.toggle('being-edited', others.some((u) => u.editing.includes(`item:${id}`)));
  }

  // ---------------------------------------------------------------- loading and live updates
  // sync (herald.js) subscribes, reads the snapshot, applies events in seq order and fetches what
  // the hub could not replay from /changes; this page only applies events and renders.
  const byId = (list) => new Map(list.map((x) => [x.id, x]));

  /** Applies one event to the state; stale states are skipped by entity version. */
  function applyEvent(st, e) {
    const d = e.data;
    switch (e.type) {
      case 'project':
        if (e.version > (st.project?.version ?? 0)) st.project = d;
        break;
      case 'item':
        applyEntity(st.items, e, Number(e.id));
        break;
      case 'activity':
        applyEntity(st.activities, e, Number(e.id));
        break;
      case 'reply': {
        const a = st.activities.get(d.activityId);
        if (!a) break;
        const old = a.replies.find((r) => r.id === d.id);
        if (e.action !== 'deleted' && old && old.version >= e.version) break;
        const replies = a.replies.filter((r) => r.id !== d.id);
        if (e.action !== 'deleted') replies.push(d);
        replies.sort((x, y) => x.id - y.id);
        st.activities.set(a.id, { ...a, replies });
        break;
      }
      default:
    }
  }

  /** Draws what one applied event changed. */
  function renderEvent(e) {
    const id = Number(e.id);
    switch (e.type) {
      case 'project':
        renderHeader();
        break;
      case 'item':
        if (s.items.has(id)) putItem(s.items.get(id));
        else removeItem(id);
        break;
      case 'activity':
        if (s.activities.has(id)) putActivity(s.activities.get(id), e.action === 'created' && !entryEls.has(id));
        else removeActivity(id);
        break;
      case 'reply':
        if (s.activities.has(e.data.activityId)) putActivity(s.activities.get(e.data.activityId), false);
        break;
      default:
    }
  }

  /** Draws the whole page from a snapshot: the first time, and when a new snapshot replaced the state. */
  function renderAll() {
    if (loading.isConnected) {
      loading.remove();
      main.append(header, presence,
        h('section', { 'aria-labelledby': 'items-title' }, h('h2', { id: 'items-title' }, 'Items'), itemsTable, itemsEmpty, addItemForm()),
        h('section', { 'aria-labelledby': 'feed-title', class: 'activity' }, h('h2', { id: 'feed-title' }, 'Activity'), commentForm(), feedEmpty, feed, olderButton, olderStatus),
        announcer);
    }
    for (const id of [...rowEls.keys()].filter((id) => !s.items.has(id))) removeItem(id);
    for (const id of [...entryEls.keys()].filter((id) => !s.activities.has(id))) removeActivity(id);
    renderHeader();
    for (const i of s.items.values()) putItem(i);
    const newestFirst = [...s.activities.values()].sort((x, y) => y.id - x.id);
    for (const a of newestFirst) putActivity(a, false);
    // After a new snapshot, entries it brought in were appended: put the feed back in order.
    const order = newestFirst.map((a) => entryEls.get(a.id).el);
    if (order.some((el, n) => feed.children[n] !== el)) feed.append(...order);
    itemsEmpty.hidden = s.items.size > 0;
    feedEmpty.hidden = s.activities.size > 0;
    olderButton.hidden = s.activities.size < FEED_PAGE;
  }

  /** The next page of older activity; kept in the state, so live replies and edits apply to it. */
  async function loadOlder() {
    const oldest = Math.min(...s.activities.keys());
    olderButton.disabled = true;
    try {
      const page = await api.get(`/api/projects/${projectId}/activities?before=${oldest}&limit=${FEED_PAGE}`);
      for (const a of page) {
        if (s.activities.has(a.id)) continue;
        s.activities.set(a.id, a);
        putActivity(a, false);
      }
      olderButton.hidden = page.length < FEED_PAGE;
      olderStatus.textContent = page.length ? `${page.length} older entries shown.` : 'No older activity.';
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      olderButton.disabled = false;
    }
  }

  /** Tells screen readers, politely, what someone else changed; one's own changes stay quiet. */
  function announce(e) {
    if (e.action === 'deleted') return;
    const d = e.data;
    let text = null;
    if (e.type === 'item' && d.changedBy && !mine(d.changedBy)) {
      text = `${name(d.changedBy)}: ${d.title} is ${(ITEM_STATUS[d.status] ?? d.status).toLowerCase()}.`;
    } else if (e.type === 'activity' && e.action === 'created' && d.kind === 'comment' && !mine(d.author)) {
      text = `${name(d.author)} commented: ${d.message.slice(0, 140)}`;
    } else if (e.type === 'reply' && e.action === 'created' && !mine(d.author)) {
      text = `${name(d.author)} replied: ${d.message.slice(0, 140)}`;
    }
    if (text) announcer.textContent = text;
  }

  // ---------------------------------------------------------------- header, publishing
  // Created once, so a half-typed schedule time (and its focus) survives live header updates.
  // The picker offers no time before now, says which time zone its times are in, and sends the
  // time with that zone's offset (so the server's answer speaks of the same clock).
  const at = field(h('input', { type: 'datetime-local', id: 'schedule-at', required: true, 'aria-describedby': 'schedule-zone' }));
  const atMin = () => (at.input.min = localDateTime(new Date()));
  at.input.addEventListener('focus', atMin);
  atMin();
  const scheduleError = formError();
  const scheduleForm = h('form', { class: 'inline schedule', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    atMin();
    const ok = await attempt({ at }, scheduleError, () => api.post(`/api/projects/${projectId}/schedule`, { at: withOffset(at.input.value) }));
    if (ok) toast('Scheduled.');
  } }, h('label', { for: 'schedule-at' }, 'Publish at'), at.el,
  h('span', { id: 'schedule-zone', class: 'muted small' }, zoneLabel()),
  h('button', { type: 'submit' }, 'Schedule'), scheduleError);

  function renderHeader() {
    const p = s.project;
    const focused = document.activeElement;
    fill(header, 
      h('p', { class: 'breadcrumb' }, h('a', { href: '#/projects' }, 'Projects'), ' / '),
      h('h1', { id: 'project-title' }, p.name, ' ', h('span', { class: 'status status-' + p.status, 'data-status': p.status }, STATUS[p.status] ?? p.status)),
      p.description ? h('p', { class: 'muted' }, p.description) : null,
      p.status === 'publish_failed' ? h('p', { class: 'warning', role: 'alert' }, 'Some items failed to publish; they are still ready to publish. Try again.') : null,
      p.status === 'scheduled' && p.scheduledAt ? h('p', {}, 'Scheduled to publish ', time(p.scheduledAt), '.') : null,
      h('p', { class: 'counts' }, Object.entries(p.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${ITEM_STATUS[k].toLowerCase()}`).join(' · ') || 'No items'),
      h('div', { class: 'actions' },
        publishButton(p),
        p.status === 'scheduled'
          ? h('button', { type: 'button', onclick: () => act(() => api.del(`/api/projects/${projectId}/schedule`), 'Scheduling removed.') }, 'Remove scheduling')
          : scheduleForm,
        h('span', { class: 'muted small' }, 'Members: ', p.members.map(name).join(', '))));
    if (focused && scheduleForm.contains(focused) && document.activeElement !== focused) focused.focus();
  }

  /** The items that "Publish now" would publish: the scheduled ones of a scheduled project, else the ready ones. */
  function publishable(p) {
    const status = p.status === 'scheduled' ? 'scheduled' : 'ready';
    return [...s.items.values()].filter((i) => i.status === status);
  }

  /** "Publish now (2 ready)": disabled, with the reason next to it, while nothing can be published. */
  function publishButton(p) {
    const n = p.status === 'scheduled' ? p.counts.scheduled : p.counts.ready;
    const none = n === 0;
    return h('span', { class: 'publish' },
      h('button', {
        type: 'button', id: 'publish', disabled: none || p.status === 'publishing',
        'aria-describedby': none ? 'publish-help' : null, onclick: () => publish(p),
      }, `Publish now (${n} ${p.status === 'scheduled' ? 'scheduled' : 'ready'})`),
      none ? h('span', { id: 'publish-help', class: 'muted small' }, ' Mark items ready to publish first.') : null);
  }

  /** Publishes after a confirmation, and reports the real outcome: "publish failed" if items failed. */
  async function publish(p) {
    const items = publishable(p);
    const answer = await ask({
      title: 'Publish now?',
      warning: editingWarning(items),
      text: `Publish ${items.length} item${items.length === 1 ? '' : 's'} of “${p.name}” now? Visitors see ${items.length === 1 ? 'it' : 'them'} at once: ${items.map((i) => i.title).join(', ')}.`,
      confirm: 'Publish',
    });
    if (!answer) return;
    try {
      const p = await api.post(`/api/projects/${projectId}/publish`);
      if (p?.status === 'publish_failed') toast('Publishing failed for some items; they are still ready to publish.', 'error');
      else toast('Published.');
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function act(call, done) {
    try {
      await call();
      toast(done);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  // ---------------------------------------------------------------- items
  const rowEls = new Map();

  function putItem(i) {
    const actions = h('td', { class: 'row-actions' });
    if (i.status === 'draft' || i.status === 'rejected') {
      actions.append(h('button', { type: 'button', onclick: () => guarded(i, 'Mark ready', () => act(() => api.post(`/api/projects/${projectId}/items/${i.id}/ready`), 'Marked ready.')) }, 'Mark ready'));
    }
    if (i.status === 'draft' || i.status === 'ready') {
      actions.append(h('button', { type: 'button', class: 'secondary', onclick: () => reject(i) }, 'Reject'));
    }
    if (i.status !== 'published') {
      actions.append(h('button', { type: 'button', class: 'danger', onclick: async () => {
        const answer = await ask({ title: 'Remove the item?', warning: editingWarning([i]), text: `Remove “${i.title}” from the project?`, confirm: 'Remove', danger: true });
        if (answer) act(() => api.del(`/api/projects/${projectId}/items/${i.id}`), 'Removed.');
      } }, 'Remove'));
    }
    const row = h('tr', { id: `item-${i.id}`, 'data-item': i.id, onfocusin: () => editing(i.id), onfocusout: stopEditing },
      h('th', { scope: 'row' }, h('span', { class: 'item-title', title: i.title }, i.title), h('span', { class: 'muted small' }, ` ${i.contentRef} v${i.contentVersion}`)),
      h('td', {}, i.type),
      h('td', {}, h('span', { class: 'item-status status-' + i.status, 'data-status': i.status }, ITEM_STATUS[i.status] ?? i.status)),
      h('td', {}, name(i.changedBy)),
      h('td', {}, time(i.changedAt)),
      actions);
    const old = rowEls.get(i.id);
    if (old) {
      const hadFocus = old.contains(document.activeElement);
      old.replaceWith(row);
      if (hadFocus) row.querySelector('button')?.focus();
    } else {
      itemsBody.append(row);
    }
    rowEls.set(i.id, row);
    itemsEmpty.hidden = true;
    refreshItemOptions();
  }

  /** Rejecting asks why; the reason goes to the activity feed and to the members' notifications. */
  async function reject(i) {
    const answer = await ask({
      title: 'Reject the item?', warning: editingWarning([i]), text: `Reject “${i.title}”? It goes back to its author for changes.`,
      reasonLabel: 'Reason (shown in the activity feed)', confirm: 'Reject', danger: true,
    });
    if (answer) act(() => api.post(`/api/projects/${projectId}/items/${i.id}/reject`, { reason: answer.reason }), 'Rejected.');
  }

  function removeItem(id) {
    rowEls.get(id)?.remove();
    rowEls.delete(id);
    itemsEmpty.hidden = rowEls.size > 0;
    refreshItemOptions();
  }

  function addItemForm() {
    const err = formError();
    const ref = field(h('input', { id: 'item-ref', required: true, placeholder: 'page/12' }));
    const ver = field(h('input', { id: 'item-version', type: 'number', min: 1, value: '1', required: true }));
    const title = field(h('input', { id: 'item-title', required: true }), { max: 300 });
    const type = field(h('select', { id: 'item-type' }, ...['page', 'block', 'media'].map((t) => h('option', { value: t }, t))));
    return h('form', { class: 'card add-item', novalidate: true, 'aria-labelledby': 'add-item-title', onsubmit: async (e) => {
      e.preventDefault();
      const ok = await attempt({ contentRef: ref, contentVersion: ver, title, type }, err, () => api.post(`/api/projects/${projectId}/items`,
        { contentRef: ref.input.value.trim(), contentVersion: ver.input.value === '' ? null : Number(ver.input.value), title: title.input.value, type: type.input.value }));
      if (ok) {
        title.input.value = '';
        ref.input.value = '';
        title.check();
        toast('Item added.');
      }
    } },
    h('h3', { id: 'add-item-title' }, 'Add an item'),
    h('div', { class: 'fields' },
      h('div', {}, h('label', { for: 'item-title' }, 'Title'), title.el),
      h('div', {}, h('label', { for: 'item-ref' }, 'Content'), ref.el),
      h('div', {}, h('label', { for: 'item-version' }, 'Version'), ver.el),
      h('div', {}, h('label', { for: 'item-type' }, 'Type'), type.el)),
    err, h('button', { type: 'submit' }, 'Add item'));
  }

  // ---------------------------------------------------------------- activity feed
  const itemSelect = h('select', { id: 'comment-item' });
  function refreshItemOptions() {
    const current = itemSelect.value;
    itemSelect.replaceChildren(h('option', { value: '' }, 'The whole project'),
      ...[...(s?.items.values() ?? [])].map((i) => h('option', { value: String(i.id), selected: String(i.id) === current }, i.title)));
  }
  const members = () => (s.project?.members ?? []).filter((id) => id !== app.me.id).map((id) => ({ id, displayName: name(id) }));
  // Users who are not members cannot be mentioned (they may not see the project): say so.
  const nonMembers = () => [...app.users.keys()].filter((id) => id !== app.me.id && !(s.project?.members ?? []).includes(id))
    .map((id) => ({ id, displayName: name(id), reason: 'Not a member of this project, so they cannot be mentioned here: members only see and are notified of what is said in it.' }));

  function commentForm() {
    const textarea = h('textarea', { id: 'comment-text', rows: 3, required: true, placeholder: 'Write a comment; type @ to mention someone', 'aria-describedby': 'comment-keys' });
    const text = field(textarea, { max: 4000, wrapper: withMentions(textarea, members, nonMembers) });
    const about = field(itemSelect);
    const err = formError();
    refreshItemOptions();
    itemSelect.addEventListener('change', () => (itemSelect.value ? editing(Number(itemSelect.value)) : editing(null)));
    const form = h('form', { class: 'card comment-form', novalidate: true, 'aria-label': 'New comment', onsubmit: async (e) => {
      e.preventDefault();
      const ok = await attempt({ message: text, itemId: about }, err, () => api.post(`/api/projects/${projectId}/activities`,
        { message: textarea.value, itemId: itemSelect.value ? Number(itemSelect.value) : null }));
      if (ok) {
        textarea.value = '';
        text.check();
      }
    } },
    h('label', { for: 'comment-text' }, 'Comment'), text.el,
    h('label', { for: 'comment-item' }, 'About'), about.el,
    err, h('button', { type: 'submit' }, 'Post comment'),
    h('span', { id: 'comment-keys', class: 'muted small keys' }, ' or press Ctrl+Enter (⌘+Enter on a Mac)'));
    submitOnCtrlEnter(textarea, form);
    return form;
  }

  const entryEls = new Map();

  /** Inserts or updates one activity in place. The reply form of an entry is never rebuilt. */
  function putActivity(a, isNew) {
    let entry = entryEls.get(a.id);
    if (!entry) {
      const body = h('div', { class: 'entry-body' });
      const replies = h('ol', { class: 'replies' });
      const replyForm = replyFormFor(a.id);
      const el = h('li', { id: `activity-${a.id}`, class: 'entry', 'data-activity': a.id }, body, replies, replyForm);
      entry = { el, body, replies, editingOpen: false };
      entryEls.set(a.id, entry);
      // Newest first; a new entry goes on top, a loaded one at the end (they come sorted).
      if (isNew) feed.prepend(el);
      else feed.append(el);
    }
    if (!entry.editingOpen) renderBody(entry, a);
    renderReplies(entry, a);
    feedEmpty.hidden = true;
  }

  function removeActivity(id) {
    entryEls.get(id)?.el.remove();
    entryEls.delete(id);
    feedEmpty.hidden = entryEls.size > 0;
  }

  function renderBody(entry, a) {
    const item = a.itemId ? s.items.get(a.itemId) : null;
    const who = a.kind === 'system' ? 'System' : name(a.author);
    const edited = a.updatedAt !== a.createdAt;
    fill(entry.body, 
      h('p', { class: 'meta' }, h('strong', {}, who),
        item ? [' on ', h('a', { href: `#/projects/${projectId}#item-${item.id}` }, item.title)] : a.kind === 'comment' ? ' on the project' : '',
        ' · ', time(a.createdAt), edited ? ' (edited)' : ''),
      message(a.message, a.mentions, app.users),
      mine(a.author) ? h('div', { class: 'entry-actions' },
        h('button', { type: 'button', class: 'link', onclick: () => editInPlace(entry, a.message, async (m) => api.patch(`/api/activities/${a.id}`, { message: m }), () => renderBody(entry, s.activities.get(a.id))) }, 'Edit'),
        h('button', { type: 'button', class: 'link danger', onclick: () => {
          if (confirm('Delete this post and its replies?')) act(() => api.del(`/api/activities/${a.id}`), 'Deleted.');
        } }, 'Delete')) : null);
    if (a.kind === 'system') entry.el.classList.add('system');
  }

  function renderReplies(entry, a) {
    fill(entry.replies, ...a.replies.map((r) => {
      const li = h('li', { id: `reply-${r.id}`, class: 'reply', 'data-reply': r.id },
        h('p', { class: 'meta' }, h('strong', {}, name(r.author)), ' · ', time(r.createdAt), r.updatedAt !== r.createdAt ? ' (edited)' : ''),
        message(r.message, r.mentions, app.users));
      if (mine(r.author)) {
        li.append(h('div', { class: 'entry-actions' },
          h('button', { type: 'button', class: 'link', onclick: () => {
            const textarea = h('textarea', { rows: 2, 'aria-label': 'Edit reply' });
            textarea.value = r.message;
            const text = field(textarea, { max: 4000 });
            const err = formError();
            const form = h('form', { novalidate: true, onsubmit: async (e) => {
              e.preventDefault();
              if (await attempt({ message: text }, err, () => api.patch(`/api/replies/${r.id}`, { message: textarea.value }))) toast('Reply updated.');
            } }, text.el, err, h('button', { type: 'submit' }, 'Save'),
            h('button', { type: 'button', class: 'link', onclick: () => renderReplies(entry, s.activities.get(a.id)) }, 'Cancel'));
            submitOnCtrlEnter(textarea, form);
            li.replaceChildren(form);
            textarea.focus();
          } }, 'Edit'),
          h('button', { type: 'button', class: 'link danger', onclick: () => {
            if (confirm('Delete this reply?')) act(() => api.del(`/api/replies/${r.id}`), 'Reply deleted.');
          } }, 'Delete')));
      }
      return li;
    }));
  }

  function editInPlace(entry, current, save, done) {
    entry.editingOpen = true;
    const textarea = h('textarea', { rows: 3, 'aria-label': 'Edit post' });
    textarea.value = current;
    const text = field(textarea, { max: 4000, wrapper: withMentions(textarea, members, nonMembers) });
    const err = formError();
    const close = () => {
      entry.editingOpen = false;
      done();
    };
    const form = h('form', { class: 'edit', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      if (await attempt({ message: text }, err, () => save(textarea.value))) close();
    } }, text.el, err, h('button', { type: 'submit' }, 'Save'), h('button', { type: 'button', class: 'link', onclick: close }, 'Cancel'));
    submitOnCtrlEnter(textarea, form);
    fill(entry.body, form);
    textarea.focus();
  }

  function replyFormFor(activityId) {
    const textarea = h('textarea', { rows: 2, required: true, 'aria-label': 'Reply', placeholder: 'Reply…' });
    const text = field(textarea, { max: 4000, wrapper: withMentions(textarea, members, nonMembers) });
    const err = formError();
    const form = h('form', { class: 'reply-form', novalidate: true, hidden: true, onsubmit: async (e) => {
      e.preventDefault();
      if (await attempt({ message: text }, err, () => api.post(`/api/activities/${activityId}/replies`, { message: textarea.value }))) {
        textarea.value = '';
        text.check();
        form.hidden = true;
        toggle.hidden = false;
      }
    } }, text.el, err, h('button', { type: 'submit' }, 'Reply'));
    submitOnCtrlEnter(textarea, form);
    const toggle = h('button', { type: 'button', class: 'link', onclick: () => {
      form.hidden = false;
      toggle.hidden = true;
      textarea.focus();
    } }, 'Reply');
    return h('div', { class: 'reply-area' }, toggle, form);
  }

  function scrollToAnchor() {
    const anchor = location.hash.split('#')[2];
    if (anchor) document.getElementById(anchor)?.scrollIntoView({ block: 'center' });
  }

  let first = true;
  /** No access (404): waiting until the user is added to the project, then it loads. */
  let denied = false;
  let left = false;

  /** The user lost access while looking at the page: say so, stop showing it. */
  function leave() {
    if (left) return;
    left = true;
    data.close();
    toast('You no longer have access to this project.', 'error');
    location.hash = '#/projects';
  }

  /** Not a member (or no such project): say so, and wait for a membership event. */
  function deny() {
    denied = true;
    data.close();
    loading.textContent = 'This project does not exist, or you are not a member.';
    loading.className = 'error';
  }

  function membership({ detail: e }) {
    if (e.reset || Number(e.id) !== projectId) return;
    if (e.action === 'created' && denied) {
      denied = false;
      loading.textContent = 'Loading…';
      loading.className = 'muted';
      start();
    } else if (e.action === 'deleted' && app.me.role !== 'admin') {
      leave();
    }
  }
  window.addEventListener('herald:membership', membership);

  function start() {
    data = sync(live(), `project:${projectId}`, {
      snapshot: () => api.get(`/api/projects/${projectId}/snapshot`),
      changes: (since) => api.get(`/api/projects/${projectId}/changes?since=${since}`),
      init: (snap) => ({ project: snap.project, items: byId(snap.items), activities: byId(snap.activities) }),
      apply: applyEvent,
      subscribe: {
        onPresence: (users) => renderPresence(users),
        // Refused before the page loaded: not a member (yet). Ended later: this user was removed.
        onError: (e) => {
          if (e.code !== 103) {
            console.error(e); // as herald.js reports errors of subscriptions without onError
            return;
          }
          if (s) leave();
          else deny();
        },
      },
    });
    sub = data.subscription;
    sub.setActivity({ viewing: `project:${projectId}` });
    first = true;
    data.on('change', ({ state, events, reset }) => {
      s = state;
      if (reset) renderAll();
      else {
        for (const e of events) {
          renderEvent(e);
          announce(e);
        }
      }
      if (first) {
        first = false;
        scrollToAnchor();
      }
    });
    data.on('status', ({ status, error }) => {
      if (!error || (status !== 'loading' && status !== 'stale')) return;
      if (status === 'loading') {
        // Not there, or not for this user: say so and stop; anything else is retried.
        loading.textContent = error.status === 404 ? 'This project does not exist, or you are not a member.' : 'Could not load the project: ' + error.message + ' Retrying…';
        loading.className = 'error';
        if (error.status === 404 || error.status === 403) deny();
      } else {
        toast('Could not catch up with changes: ' + error.message + ' Retrying…', 'error');
      }
    });
  }
  start();

  return {
    dispose: () => {
      window.removeEventListener('herald:membership', membership);
      data.close();
    },
    projectId,
    reveal: scrollToAnchor,
  };
}
