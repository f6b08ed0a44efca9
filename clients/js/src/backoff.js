// Reconnect delays: exponential backoff with full jitter.

/**
 * Exponential backoff with "full jitter": the delay before retry number `attempt` (0 for the
 * first retry) is drawn uniformly from `[0, min(cap, base * 2^attempt))`.
 *
 * Full jitter (rather than a fixed exponential delay, or a little jitter around it) spreads the
 * reconnects of thousands of browsers that lost the same server at the same moment over the
 * whole window, so the server is not hit by synchronized waves. There is no attempt limit:
 * the delay stops growing at `cap`, and the client keeps trying at that pace.
 */
export class Backoff {
  /**
   * @param {{base?: number, cap?: number, random?: () => number}} [options]
   *   `base`: ceiling of the first delay in ms (default 500); `cap`: largest ceiling in ms
   *   (default 30000); `random`: a function returning [0, 1), injectable for tests.
   */
  constructor({ base = 500, cap = 30_000, random = Math.random } = {}) {
    if (!(Number.isFinite(base) && base > 0)) throw new RangeError(`backoff.base must be a positive number of ms, got ${base}`);
    if (!(Number.isFinite(cap) && cap >= base)) throw new RangeError(`backoff.cap must be a number of ms >= base (${base}), got ${cap}`);
    this.base = base;
    this.cap = cap;
    this.random = random;
  }

  /** The ceiling of the delay for retry number `attempt` (not jittered). */
  ceiling(attempt) {
    // 2 ** attempt grows to Infinity for huge attempts; min() keeps it at cap.
    return Math.min(this.cap, this.base * 2 ** Math.max(0, attempt));
  }

  /**
   * A jittered delay in whole ms for retry number `attempt`, in `[0, min(ceiling(attempt), limit))`
   * (`limit`: a lower cap for this delay, e.g. for a page the user is looking at).
   */
  delay(attempt, limit = Infinity) {
    const r = Math.min(Math.max(this.random(), 0), 0.999999);
    return Math.floor(r * Math.min(this.ceiling(attempt), limit));
  }
}
