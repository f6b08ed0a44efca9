// What the client needs from its surroundings, injectable so that tests (and non-browser hosts)
// can provide their own: time, randomness, and the page lifecycle.

/**
 * @typedef {object} Clock
 * @property {() => number} now wall-clock time in ms since the epoch (compared with the
 *   server's `ts` for lag, and used to notice that timers ran late, e.g. after sleep)
 * @property {(fn: () => void, ms: number) => unknown} setTimeout
 * @property {(handle: unknown) => void} clearTimeout
 */

/** The real clock. */
export const systemClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
});

/**
 * @typedef {object} Environment
 * The page lifecycle as the client sees it. In a browser it wraps `window`, `document` and
 * `navigator`; tests pass a fake to simulate tabs being hidden, networks dropping and so on.
 * @property {(type: string, listener: (event: any) => void) => void} addEventListener
 *   receives the types `online`, `offline`, `visibilitychange`, `pagehide`, `pageshow`,
 *   `freeze`, `resume` and the user-input types in {@link INPUT_EVENTS}
 * @property {(type: string, listener: (event: any) => void) => void} removeEventListener
 * @property {'visible'|'hidden'} visibilityState
 * @property {boolean} onLine false only when the device is known to have no network
 */

/** User input that counts as activity for presence idle detection. */
export const INPUT_EVENTS = Object.freeze(['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll']);

/** Events the browser fires on `document` rather than `window`. */
const DOCUMENT_EVENTS = new Set(['visibilitychange', 'freeze', 'resume']);

/** An environment with no lifecycle at all (Node, workers): always visible and online. */
export const staticEnvironment = Object.freeze({
  addEventListener() {},
  removeEventListener() {},
  visibilityState: 'visible',
  onLine: true,
});

/** The browser's lifecycle, or {@link staticEnvironment} where there is no DOM. */
export function defaultEnvironment() {
  const w = globalThis.window;
  const d = globalThis.document;
  if (!w || !d || typeof w.addEventListener !== 'function') return staticEnvironment;
  // Capture phase and passive: input listeners see every event (also those whose propagation a
  // page stops) and never delay scrolling.
  const opts = { capture: true, passive: true };
  const target = (type) => (DOCUMENT_EVENTS.has(type) ? d : w);
  return {
    addEventListener: (type, fn) => target(type).addEventListener(type, fn, opts),
    removeEventListener: (type, fn) => target(type).removeEventListener(type, fn, opts),
    get visibilityState() {
      return d.visibilityState === 'hidden' ? 'hidden' : 'visible';
    },
    get onLine() {
      return globalThis.navigator?.onLine !== false;
    },
  };
}
