// Tabs of one browser share a session cookie: logging out in one tab ends the session in all of
// them. A BroadcastChannel tells the other tabs at once, so they show the login form instead of
// a stale page (a session that expires is caught by the live connection and /api/me, live.js).

const CHANNEL = 'herald-app-session';
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;

/** Tells the other tabs that this user logged out. */
export function announceLogout() {
  channel?.postMessage({ type: 'logged-out' });
}

/** Calls `fn` when another tab of this browser logged out. */
export function onLogoutElsewhere(fn) {
  channel?.addEventListener('message', (e) => {
    if (e.data?.type === 'logged-out') fn();
  });
}
