// Safe DOM building: user text only ever goes into text nodes, never into HTML.

/**
 * Creates an element. `props` sets attributes (`class`, `aria-*`, `data-*`...), properties
 * (`value`, `checked`, `disabled`, `hidden`) and listeners (`onclick`...). Children are nodes or
 * strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** Replaces an element's children (null, undefined and false children are skipped). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return timeFormat.format(d);
}

/** A <time> element with a readable date and the exact time as its datetime. */
export function time(iso) {
  return h('time', { datetime: iso, title: iso }, when(iso));
}

/**
 * Renders a comment: the text as text nodes, with known @mentions in bold. Unknown names stay
 * plain text. No HTML from the message is ever interpreted.
 */
export function message(text, mentions = [], names = new Map()) {
  const known = new Set(mentions);
  return h('p', { class: 'message' }, ...mentionNodes(text, (id) => known.has(id), names));
}

/**
 * A notification's text with every @handle of a known user shown as their name, in bold
 * (`names`: user id to display name). Unknown handles stay as typed; the text stays text.
 */
export function named(text, names = new Map()) {
  return mentionNodes(text, (id) => names.has(id), names);
}

/** The text as strings, with each @handle that `mentioned(id)` accepts as a bold name. */
function mentionNodes(text, mentioned, names) {
  const out = [];
  const re = /(^|[^\w.@-])@([a-z][a-z0-9_.-]{1,31})/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const start = m.index + m[1].length;
    const id = m[2].replace(/[.-]+$/, '');
    if (!mentioned(id)) continue;
    out.push(text.slice(last, start), h('strong', { class: 'mention', title: '@' + id }, names.get(id) ?? '@' + id));
    last = start + 1 + id.length;
  }
  out.push(text.slice(last));
  return out;
}

/**
 * Shows a short-lived message in a live region. With `href`, the whole toast is a link there
 * (`onclick` runs too); `detail` is a second line (text or nodes).
 */
export function toast(text, kind = 'info', { href = null, onclick = null, detail = null } = {}) {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const body = [h('strong', {}, text), detail ? h('span', { class: 'toast-detail' }, detail) : null];
  const t = href
    ? h('a', { class: 'toast link-toast ' + kind, href, onclick: () => { onclick?.(); t.remove(); } }, ...body)
    : h('div', { class: 'toast ' + kind }, detail ? body : text);
  region.append(t);
  // A toast that leads somewhere stays longer, and never goes while the pointer or focus is on it.
  const remove = () => (t.matches(':hover, :focus-within') ? setTimeout(remove, 2000) : t.remove());
  setTimeout(remove, href ? 10000 : 6000);
}
