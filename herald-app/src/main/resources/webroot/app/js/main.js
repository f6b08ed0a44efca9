// Entry point: session check, routing (#/projects, #/projects/42), header controls.
import { api, setCsrf } from './api.js';
import { $, clear, h } from './dom.js';
import { startLive, stopLive } from './live.js';
import { startBell, stopBell } from './bell.js';
import { loginView } from './login.js';
import { announceLogout, onLogoutElsewhere } from './session.js';
import { projectsView } from './projects.js';
import { projectView } from './project.js';
import { adminView } from './admin.js';

const state = { me: null, users: new Map(), view: null };

async function boot() {
  window.addEventListener('herald:logged-out', () => loggedOut());
  onLogoutElsewhere(() => loggedOut());
  window.addEventListener('hashchange', route);
  $('#logout').addEventListener('click', logout);
  try {
    const me = await api.get('/api/me');
    await signedIn(me);
  } catch {
    showLogin();
  }
}

async function signedIn(me) {
  state.me = me.user;
  setCsrf(me.csrfToken);
  const users = await api.get('/api/users');
  state.users = new Map(users.map((u) => [u.id, u.displayName]));
  $('#me').textContent = me.user.displayName;
  $('#session-controls').hidden = false;
  $('#admin-link').hidden = me.user.role !== 'admin';
  startLive();
  startBell(state);
  if (!location.hash || location.hash === '#/login') location.hash = '#/projects';
  else route();
}

function showLogin() {
  stopLive();
  stopBell();
  state.view?.dispose?.();
  state.view = null;
  state.me = null;
  $('#session-controls').hidden = true;
  $('#admin-link').hidden = true;
  const main = clear($('#main'));
  main.append(loginView(async (me) => {
    await signedIn(me);
  }));
}

async function logout() {
  try {
    await api.post('/api/logout');
  } finally {
    announceLogout();
    loggedOut();
  }
}

/** The session ended (here, in another tab, or it expired): the login form, nothing stale. */
function loggedOut() {
  if (!state.me && $('#login-user')) return; // already showing it
  setCsrf(null);
  location.hash = '#/login';
  showLogin();
}

function route() {
  if (!state.me) return;
  const m = /^#\/projects\/(\d+)/.exec(location.hash);
  // Another anchor in the project already shown (a notification's link): scroll there, but keep
  // the page as it is, with its half-typed comments.
  if (m && state.view?.projectId === Number(m[1])) {
    state.view.reveal();
    return;
  }
  state.view?.dispose?.();
  const main = clear($('#main'));
  if (location.hash.startsWith('#/admin')) state.view = adminView(main, state);
  else state.view = m ? projectView(main, Number(m[1]), state) : projectsView(main, state);
  main.focus({ preventScroll: true });
}

boot();

export { h };
