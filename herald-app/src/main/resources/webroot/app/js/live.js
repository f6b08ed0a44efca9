// The page's one real-time connection (herald.js) and the indicator that tells the truth about it.
import { Herald } from '/herald/herald.js';
import { $ } from './dom.js';

const TRANSPORT_NAMES = { websocket: 'WebSocket', sse: 'Server-Sent Events', 'long-polling': 'long-polling' };
let herald = null;
let bannerTimer = null;

/** Starts the connection (cookie session: no token needed) and wires the indicator. */
export function startLive() {
  if (herald) return herald;
  herald = new Herald('/', { client: 'herald-projects-ui/0.1' });
  herald.on('state', render);
  herald.on('error', (e) => console.warn('herald:', e));
  herald.connect();
  return herald;
}

export function stopLive() {
  herald?.close();
  herald = null;
}

export function live() {
  return herald;
}

function render(info) {
  const el = $('#connection');
  const label = el.querySelector('.label');
  el.dataset.state = info.state;
  const transport = TRANSPORT_NAMES[info.transport] ?? info.transport ?? '';
  let text;
  let title = info.reason ?? '';
  switch (info.state) {
    case 'live':
      text = transport && transport !== 'WebSocket' ? `Live (${transport})` : 'Live';
      title = `Updates arrive live over ${transport || 'the network'}` + (info.reason ? ` (${info.reason})` : '');
      break;
    case 'connecting':
      text = 'Connecting…';
      break;
    case 'reconnecting':
      text = 'Reconnecting…';
      break;
    default:
      text = 'Offline';
  }
  label.textContent = text;
  el.title = title;
  banner(info);
}

/** A banner whenever updates are not live, so a page is never silently stale. */
function banner(info) {
  const b = $('#banner');
  clearTimeout(bannerTimer);
  if (info.state === 'live') {
    b.hidden = true;
    b.replaceChildren();
    return;
  }
  const show = () => {
    const seconds = info.delayMs ? Math.max(1, Math.round(info.delayMs / 1000)) : null;
    let text;
    if (info.state === 'offline') {
      text = 'Updates are not live: ' + (info.reason ?? 'disconnected') + '. What you see may be out of date.';
    } else if (info.state === 'reconnecting') {
      text = 'Updates are paused: the connection was lost' + (info.reason ? ` (${info.reason})` : '') +
        (seconds ? `. Reconnecting in ${seconds} s…` : '. Reconnecting…') + ' Changes made meanwhile will appear once it is back.';
    } else {
      text = 'Connecting for live updates…';
    }
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'link';
    retry.textContent = 'Retry now';
    retry.addEventListener('click', () => herald?.connect());
    b.replaceChildren(document.createTextNode(text + ' '), retry);
    b.dataset.state = info.state;
    b.hidden = false;
  };
  // A first connect or a quick reconnect should not flash a banner.
  if (info.state === 'connecting' || info.state === 'reconnecting' && (info.delayMs ?? 0) < 1500) bannerTimer = setTimeout(show, 2000);
  else show();
}
