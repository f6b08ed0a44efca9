// Form fields with their errors and length limits: the API's field messages (docs/api.md "Errors")
// are shown next to the field they name, stale ones are cleared on the next attempt, and text
// over its limit is never cut: a counter appears near the limit and over it the field says so.
import { h } from './dom.js';

let counter = 0;
const number = new Intl.NumberFormat('en-US');

/**
 * Wraps `input` (or `wrapper`, e.g. a mention autocomplete around it) with a counter and an error
 * line. `max` is the field's limit in characters after trimming, as the server counts them.
 * Returns { el, input, error(text), clear(), check(), focus() }.
 */
export function field(input, { max, wrapper } = {}) {
  if (!input.id) input.id = `field-${++counter}`;
  const error = h('p', { class: 'field-error', id: `${input.id}-error`, hidden: true });
  const count = max ? h('p', { class: 'counter small', id: `${input.id}-count`, hidden: true }) : null;
  const described = [input.getAttribute('aria-describedby'), count?.id, error.id].filter(Boolean);
  input.setAttribute('aria-describedby', described.join(' '));
  let serverError = null;

  function show() {
    const length = input.value.trim().length;
    const over = max && length > max;
    if (count) {
      // Near the limit (the last fifth) and over it: "3,950 / 4,000".
      count.hidden = length < max * 0.8;
      count.textContent = `${number.format(length)} / ${number.format(max)} characters`;
      count.classList.toggle('over', Boolean(over));
    }
    const text = over
      ? `${number.format(length)} characters; the limit is ${number.format(max)}. Shorten it by ${number.format(length - max)}.`
      : serverError;
    error.textContent = text ?? '';
    error.hidden = !text;
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    return !over;
  }

  // Editing the field makes the server's verdict on the old value stale.
  input.addEventListener('input', () => {
    serverError = null;
    show();
  });
  return {
    el: h('div', { class: 'field' }, wrapper ?? input, count, error),
    input,
    error(text) {
      serverError = text;
      show();
    },
    clear() {
      serverError = null;
      show();
    },
    check: show,
    focus: () => input.focus(),
  };
}

/**
 * Runs `submit` for a form with `fields` (API field name -> field()) and a general error line:
 * clears the last attempt's errors, refuses text over its limit without calling the server, and
 * shows a refusal's field messages at their fields (the first one focused); anything else, or a
 * field the form does not show, goes to `general`. Resolves to true when `submit` succeeded.
 */
export async function attempt(fields, general, submit) {
  general.hidden = true;
  general.textContent = '';
  const all = Object.values(fields);
  for (const f of all) f.clear();
  const over = all.filter((f) => !f.check());
  if (over.length) {
    over[0].focus();
    return false;
  }
  try {
    await submit();
    return true;
  } catch (err) {
    const rest = [];
    let first = null;
    for (const [name, text] of Object.entries(err.fields ?? {})) {
      const f = fields[name];
      if (f) {
        f.error(text);
        first ??= f;
      } else {
        rest.push(text);
      }
    }
    const generalText = first ? rest.join(' ') : err.message;
    if (generalText) {
      general.textContent = generalText;
      general.hidden = false;
    }
    first?.focus();
    return false;
  }
}

/** The general error line of a form (errors not tied to one field). */
export function formError() {
  return h('p', { class: 'error', role: 'alert', hidden: true });
}

const pad = (n) => String(n).padStart(2, '0');

/** A Date as the local "YYYY-MM-DDTHH:MM" of a datetime-local input (its `min`, its `value`). */
export function localDateTime(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The local offset of a moment, "+01:00". */
function offsetOf(d) {
  const minutes = -d.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * A datetime-local value ("2026-12-01T09:00") as an ISO-8601 time with the local offset
 * ("2026-12-01T09:00:00+01:00"); an empty value stays empty (the server then asks for a time).
 */
export function withOffset(value) {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return `${localDateTime(d)}:00${offsetOf(d)}`;
}

/** The time zone the browser's times are in: "Times in Europe/Berlin (UTC+01:00)". */
export function zoneLabel() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `Times in ${zone ?? 'local time'} (UTC${offsetOf(new Date())})`;
}

/** Ctrl+Enter (⌘+Enter on a Mac) in `textarea` submits `form`, as the button does. */
export function submitOnCtrlEnter(textarea, form) {
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.defaultPrevented) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}
