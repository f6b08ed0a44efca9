// A modal question before an action that others see at once or that is hard to undo: publish,
// reject (with a reason), act on an item someone else is editing.
import { h } from './dom.js';
import { field } from './forms.js';

let counter = 0;

/**
 * Asks before an action. Resolves to `{ reason }` when confirmed (the typed reason, or '' when
 * none was asked for) and to null when cancelled (Cancel or Escape). `warning`, when given, is shown
 * above the question (someone else is editing the item). `reasonLabel` asks for a required reason.
 */
export function ask({ title, text, warning = null, reasonLabel = null, confirm, danger = false }) {
  const id = `ask-${++counter}`;
  return new Promise((resolve) => {
    let result = null;
    const dialog = h('dialog', { class: 'ask', 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-text` });
    // No maxlength: a longer reason is never cut, the field says how much to shorten it (forms.js).
    const reasonField = reasonLabel
      ? field(h('textarea', { id: `${id}-reason`, class: 'ask-reason', rows: 3, 'aria-required': 'true', 'aria-describedby': `${id}-error` }), { max: 1000 })
      : null;
    const reason = reasonField?.input ?? null;
    const err = h('p', { class: 'error', id: `${id}-error`, role: 'alert', hidden: true });
    const ok = h('button', { type: 'submit', class: danger ? 'danger ask-confirm' : 'ask-confirm' }, confirm);
    const form = h('form', { method: 'dialog', novalidate: true, onsubmit: (e) => {
      if (reason && !reason.value.trim()) {
        e.preventDefault();
        err.textContent = 'Please say why, so that the others know what to change.';
        err.hidden = false;
        reason.setAttribute('aria-invalid', 'true');
        reason.focus();
        return;
      }
      err.hidden = true;
      if (reasonField && !reasonField.check()) {
        e.preventDefault();
        reason.focus();
        return;
      }
      result = { reason: reason ? reason.value.trim() : '' };
    } },
    h('h2', { id: `${id}-title` }, title),
    warning ? h('p', { class: 'warning ask-warning' }, warning) : null,
    h('p', { id: `${id}-text` }, text),
    reason ? [h('label', { for: `${id}-reason` }, reasonLabel), reasonField.el, err] : null,
    h('div', { class: 'ask-buttons' },
      ok, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel')));
    dialog.append(form);
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    (reason ?? ok).focus();
  });
}
