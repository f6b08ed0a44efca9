// Delivery lag statistics over a sliding window of samples.

/**
 * Summary statistics of the most recent `window` lag samples (ms), plus totals since start.
 *
 * A sample is `receive time (client clock) - pub.ts (server clock)`, so it includes any clock
 * skew between the two machines: see docs/client-js.md, "Lag". Samples may therefore be
 * negative; they are kept as measured rather than clamped, so that skew is visible.
 */
export class LagStats {
  /** @param {number} [window] number of most recent samples the percentiles are computed over */
  constructor(window = 1000) {
    if (!(Number.isInteger(window) && window > 0)) throw new RangeError(`lag window must be a positive integer, got ${window}`);
    this.window = window;
    this.reset();
  }

  reset() {
    this.samples = new Float64Array(this.window); // ring buffer
    this.size = 0;
    this.next = 0;
    this.total = 0;
    this.last = null;
  }

  /** Adds one sample in ms. Non-finite values are ignored. */
  add(ms) {
    if (!Number.isFinite(ms)) return;
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.window;
    if (this.size < this.window) this.size++;
    this.total++;
    this.last = ms;
  }

  /**
   * @returns {{count: number, total: number, window: number, min: number|null, max: number|null,
   *   mean: number|null, p50: number|null, p90: number|null, p99: number|null, last: number|null}}
   *   `count` samples in the window (at most `window`), `total` since start or reset; the
   *   statistics are over the window and `null` while it is empty.
   */
  snapshot() {
    const n = this.size;
    if (n === 0) {
      return { count: 0, total: this.total, window: this.window, min: null, max: null, mean: null, p50: null, p90: null, p99: null, last: this.last };
    }
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
    let sum = 0;
    for (const v of sorted) sum += v;
    // Nearest-rank percentiles: the smallest sample with at least p% of the samples at or below it.
    const pct = (p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
    return {
      count: n,
      total: this.total,
      window: this.window,
      min: sorted[0],
      max: sorted[n - 1],
      mean: Math.round((sum / n) * 10) / 10,
      p50: pct(50),
      p90: pct(90),
      p99: pct(99),
      last: this.last,
    };
  }
}
