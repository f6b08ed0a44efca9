// The page's one real-time connection (herald.js) and the indicator and banner that tell the
// truth about it: in plain words for editors, with the transport diagnostics behind "Details".
import { Herald } from '/herald/herald.js';
import { api } from './api.js';
import { $, fill, h } from './dom.js';

const TRANSPORT_NAMES = { websocket: 'WebSocket', sse: 'Server-Sent Events', 'long-polling': 'long-polling' };
/** A page that is not live for this long gets the banner (a quick reconnect should not flash one). */
const BANNER_AFTER_MS = 2000;
/** Close codes that end a connection because the session is gone (4500 refused, 4501 logged out). */
const SESSION_ENDED = new Set([4500, 4501]);
let herald = null;
let info = null;
/** When the page stopped being live (null while live). */
let notLiveSince = null;
let bannerTimer = null;
let tick = null;
let detailsOpen = false;

/** Starts the connection (cookie session: no token needed) and wires the indicator. */
export function startLive() {
  if (herald) return herald;
  herald = new Herald('/', { client: 'herald-projects-ui/0.1' });
  herald.on('state', render);
  herald.on('error', (e) => console.warn('herald:', e));
  herald.connect();
  stickBanner();
  return herald;
}

export function stopLive() {
  herald?.close();
  herald = null;
  info = null;
  notLiveSince = null;
  clearTimeout(bannerTimer);
  clearInterval(tick);
  hideBanner();
}

function hideBanner() {
  const b = $('#banner');
  b.hidden = true;
  b.replaceChildren();
  delete b.dataset.message;
}

export function live() {
  return herald;
}

function render(next) {
  info = next;
  const el = $('#connection');
  el.dataset.state = info.state;
  const transport = TRANSPORT_NAMES[info.transport] ?? info.transport ?? '';
  let text;
  switch (info.state) {
    case 'live':
      text = 'Live';
      el.title = `Changes by others appear as they happen (${transport || 'connected'})`;
      break;
    case 'connecting':
    case 'reconnecting':
      text = 'Reconnecting…';
      el.title = 'Changes by others will appear once the connection is back';
      break;
    default:
      text = 'Not live';
      el.title = 'Changes by others do not appear until the page reconnects';
  }
  if (info.state === 'connecting' && info.previous === 'offline') text = 'Connecting…';
  el.querySelector('.label').textContent = text;
  if (info.state === 'offline' && sessionEnded(info)) checkSession();
  schedule();
}

/** Whether the connection ended because the user's session did (logout elsewhere, expiry). */
function sessionEnded(s) {
  return SESSION_ENDED.has(s.code) || s.error?.code === 101 || s.error?.closeCode === 4500;
}

/** Asks the app whether the session is still valid; a 401 sends the page to the login form. */
function checkSession() {
  // api.js announces a 401 with 'herald:logged-out', which shows the login form.
  api.get('/api/me').catch(() => {});
}

/** Shows the banner at once, or once the page has not been live for BANNER_AFTER_MS. */
function schedule() {
  clearTimeout(bannerTimer);
  clearInterval(tick);
  if (info.state === 'live') {
    notLiveSince = null;
    hideBanner();
    return;
  }
  notLiveSince ??= Date.now();
  const wait = info.state === 'offline' ? 0 : notLiveSince + BANNER_AFTER_MS - Date.now();
  if (wait > 0) bannerTimer = setTimeout(showBanner, wait);
  else showBanner();
}

function showBanner() {
  const b = $('#banner');
  const s = info;
  let message;
  let action = null;
  if (s.state === 'offline' && s.error?.code === 'origin_refused') {
    message = 'Live updates are unavailable because this site is misconfigured: the update server does not accept this page’s address. Please tell your administrator. What you see may be out of date; reload the page to see the latest.';
  } else if (s.state === 'offline' && s.resume === 'online') {
    message = 'You are offline. Changes made meanwhile will appear when your network is back.';
  } else if (s.state === 'offline' && sessionEnded(s)) {
    message = 'Your session has ended. Please log in again.';
  } else if (s.state === 'offline') {
    message = 'Live updates have stopped. What you see may be out of date.';
    action = 'Reconnect';
  } else {
    message = 'Connection lost — we are reconnecting; changes made meanwhile will appear.';
    action = 'Retry now';
  }
  // The banner is an alert: it is rebuilt (and announced) only when its message changes; retries
  // meanwhile only update the countdown and the details.
  if (b.hidden || b.dataset.message !== message) {
    const details = h('div', { class: 'banner-details', id: 'banner-details', hidden: !detailsOpen });
    const toggle = h('button', {
      type: 'button', class: 'link', 'aria-expanded': String(detailsOpen), 'aria-controls': 'banner-details',
      onclick: () => {
        detailsOpen = !detailsOpen;
        toggle.setAttribute('aria-expanded', String(detailsOpen));
        details.hidden = !detailsOpen;
      },
    }, 'Details');
    fill(b,
      h('span', { class: 'banner-message' }, message), ' ',
      h('span', { class: 'countdown', 'aria-hidden': 'true' }), ' ',
      action && h('button', { type: 'button', class: 'link', onclick: () => herald?.connect() }, action), ' ',
      toggle, details);
    b.dataset.message = message;
  }
  b.dataset.state = s.state;
  b.hidden = false;
  fill(b.querySelector('.banner-details'), diagnostics(s));
  const countdown = b.querySelector('.countdown');
  const update = () => {
    const left = s.state === 'reconnecting' && s.retryAt ? Math.ceil((s.retryAt - Date.now()) / 1000) : null;
    countdown.textContent = left === null ? '' : left > 0 ? `Next try in ${left} s.` : 'Trying now…';
  };
  update();
  if (s.state === 'reconnecting') tick = setInterval(update, 1000);
}

/** What failed and how, for whoever investigates (the editor does not need to read it). */
function diagnostics(s) {
  const lines = [
    `State: ${s.state}${s.transport ? ` over ${TRANSPORT_NAMES[s.transport] ?? s.transport}` : ''}`,
    s.reason ? `Reason: ${s.reason}` : null,
    s.code != null ? `Close code: ${s.code}` : null,
    s.error?.code != null ? `Error: ${s.error.code}` : null,
    s.transportReason ? `Transport chosen: ${s.transportReason}` : null,
  ];
  return lines.filter(Boolean).map((l) => h('div', {}, l));
}

/** Keeps the banner right under the sticky top bar, whatever height the bar wraps to. */
function stickBanner() {
  const bar = document.querySelector('.topbar');
  if (!bar || typeof ResizeObserver !== 'function') return;
  const place = () => document.documentElement.style.setProperty('--topbar-height', `${bar.offsetHeight}px`);
  new ResizeObserver(place).observe(bar);
  place();
}
