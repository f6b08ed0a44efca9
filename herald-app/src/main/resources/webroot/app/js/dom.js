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
  const out = [];
  const re = /(^|[^\w.@-])@([a-z][a-z0-9_.-]{1,31})/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const start = m.index + m[1].length;
    const name = m[2].replace(/[.-]+$/, '');
    if (!known.has(name)) continue;
    out.push(text.slice(last, start));
    out.push(h('strong', { class: 'mention', title: '@' + name }, names.get(name) ?? '@' + name));
    last = start + 1 + name.length;
  }
  out.push(text.slice(last));
  return h('p', { class: 'message' }, ...out);
}

/** Shows a short-lived message in a live region. */
export function toast(text, kind = 'info') {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const t = h('div', { class: 'toast ' + kind }, text);
  region.append(t);
  setTimeout(() => t.remove(), 6000);
}
