// @mention autocomplete for a textarea: type "@" and part of a name, pick with arrows + Enter/Tab.
import { h } from './dom.js';

let counter = 0;

/**
 * Adds autocomplete to `textarea`. `candidates()` returns [{id, displayName}] (the project's
 * members); `others()` the users who match but cannot be mentioned, each with the reason, shown
 * as options that cannot be picked. Returns the wrapper element to put where the textarea goes.
 */
export function withMentions(textarea, candidates, others = () => []) {
  const id = `mention-list-${++counter}`;
  const list = h('ul', { id, class: 'mention-list', role: 'listbox', hidden: true, 'aria-label': 'People you can mention' });
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', id);
  let matches = [];
  let notes = [];
  let active = 0;
  let start = -1;

  function query() {
    const upTo = textarea.value.slice(0, textarea.selectionStart);
    const m = /(^|[^\w.@-])@([a-z0-9_.-]{0,31})$/i.exec(upTo);
    if (!m) return null;
    start = upTo.length - m[2].length - 1;
    return m[2].toLowerCase();
  }

  function close() {
    list.hidden = true;
    matches = [];
    notes = [];
    textarea.removeAttribute('aria-activedescendant');
  }

  function render() {
    list.replaceChildren(...matches.map((u, i) => h('li', {
      id: `${id}-${i}`, role: 'option', 'aria-selected': String(i === active), class: i === active ? 'active' : '',
      onmousedown: (e) => {
        e.preventDefault();
        pick(i);
      },
    }, h('strong', {}, u.displayName), ' @' + u.id)),
    ...notes.map((u, i) => h('li', { id: `${id}-note-${i}`, role: 'option', 'aria-disabled': 'true', class: 'note' },
      h('strong', {}, u.displayName), ' @' + u.id, h('span', { class: 'why' }, u.reason))));
    list.hidden = matches.length === 0 && notes.length === 0;
    if (matches.length) textarea.setAttribute('aria-activedescendant', `${id}-${active}`);
  }

  function pick(i) {
    const u = matches[i];
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(textarea.selectionStart);
    textarea.value = `${before}@${u.id} ${after}`;
    const caret = before.length + u.id.length + 2;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.focus();
  }

  textarea.addEventListener('input', () => {
    const q = query();
    if (q === null) return close();
    const fits = (u) => u.id.startsWith(q) || u.displayName.toLowerCase().includes(q);
    matches = candidates().filter(fits).slice(0, 8);
    notes = q ? others().filter(fits).slice(0, 3) : [];
    active = 0;
    render();
  });
  textarea.addEventListener('keydown', (e) => {
    if (list.hidden || !matches.length) {
      if (!list.hidden && e.key === 'Escape') {
        e.preventDefault();
        close();
      }
      return;
    }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      active = (active + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length;
      render();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      pick(active);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    }
  });
  textarea.addEventListener('blur', () => setTimeout(close, 150));
  return h('div', { class: 'mention-wrap' }, textarea, list);
}
