// Presence for editing UIs: per-connection entries from the protocol, grouped into people.

/**
 * @typedef {object} ClientPresence  One connection (browser tab, device) in a channel.
 * @property {string} client  the connection id
 * @property {string} user
 * @property {Record<string, unknown>} info   set by the server at connect (e.g. a display name)
 * @property {Record<string, unknown>} state  set by that connection (`setActivity` / idle)
 */

/**
 * @typedef {object} UserPresence  One person, however many tabs they have open.
 * @property {string} user
 * @property {Record<string, unknown>} info  from the person's first connection
 * @property {boolean} self        the user this client is connected as
 * @property {number} connections  how many connections (tabs, devices) they have here
 * @property {boolean} idle        true when every connection of theirs is idle
 * @property {string[]} editing    items they edit in any connection (sorted, unique)
 * @property {string[]} viewing    items they view in any connection (sorted, unique)
 * @property {ClientPresence[]} clients  their connections, sorted by id
 */

/**
 * Groups per-connection presence entries by user: several tabs of one person count once.
 * A person is idle only when all their connections are (`state.idle === true`); a connection
 * that does not report idleness (another client library) counts as active. `editing` and
 * `viewing` collect `state.editing` / `state.viewing` (a string or an array of strings) across
 * connections, idle ones included: an idle editor still has the item open.
 *
 * @param {Iterable<ClientPresence>} clients
 * @param {string|null} [selfUser]
 * @returns {UserPresence[]} sorted by user id
 */
export function groupByUser(clients, selfUser = null) {
  const byUser = new Map();
  const sorted = [...clients].sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
  for (const c of sorted) {
    let u = byUser.get(c.user);
    if (!u) {
      u = { user: c.user, info: c.info ?? {}, self: c.user === selfUser, connections: 0, idle: true, editing: new Set(), viewing: new Set(), clients: [] };
      byUser.set(c.user, u);
    }
    u.connections++;
    u.clients.push(c);
    const state = c.state ?? {};
    if (state.idle !== true) u.idle = false;
    for (const item of items(state.editing)) u.editing.add(item);
    for (const item of items(state.viewing)) u.viewing.add(item);
  }
  return [...byUser.values()]
    .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
    .map((u) => ({ ...u, editing: [...u.editing].sort(), viewing: [...u.viewing].sort() }));
}

function items(value) {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string');
  return [];
}

/** A presence entry from a protocol message, with `info` and `state` always objects. */
export function clientEntry(msg) {
  return {
    client: String(msg.client),
    user: String(msg.user),
    info: isObject(msg.info) ? msg.info : {},
    state: isObject(msg.state) ? msg.state : {},
  };
}

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
