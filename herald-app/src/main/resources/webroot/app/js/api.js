// The app's REST API (docs/api.md): JSON, session cookie, CSRF header on state changes.

let csrf = null;

/** An API error with the server's status, code, message and field messages. */
export class ApiError extends Error {
  constructor(status, code, message, fields = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export function setCsrf(token) {
  csrf = token;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  let json = null;
  try {
    json = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const e = json?.error ?? {};
    if (res.status === 401 && path !== '/api/login') window.dispatchEvent(new CustomEvent('herald:logged-out'));
    throw new ApiError(res.status, e.code ?? 'http_' + res.status, e.message ?? `Request failed (${res.status}).`, e.fields ?? {});
  }
  return json;
}

export const api = {
  get: (p) => request('GET', p),
  post: (p, b) => request('POST', p, b ?? {}),
  patch: (p, b) => request('PATCH', p, b),
  del: (p) => request('DELETE', p),
};
