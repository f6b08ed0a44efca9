// The login form.
import { api, ApiError } from './api.js';
import { h } from './dom.js';

export function loginView(onLoggedIn) {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title',
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      error.hidden = true;
      try {
        const me = await api.post('/api/login', { username: user.value.trim(), password: pass.value });
        await onLoggedIn(me);
      } catch (err) {
        error.textContent = err instanceof ApiError && err.status === 401 ? 'Wrong user name or password.' : err.message;
        error.hidden = false;
        pass.select();
      } finally {
        button.disabled = false;
      }
    } },
  h('h1', { id: 'login-title' }, 'Log in'),
  h('label', { for: 'login-user' }, 'User name'), user,
  h('label', { for: 'login-password' }, 'Password'), pass,
  error, button);
  return form;
}
