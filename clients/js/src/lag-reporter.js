// lag-reporter.js: delivery lag as Herald measures and reports it (docs/client-js.md, "Lag"):
// the `lag` event every `lag.reportInterval`, and the samples sent to the server
// (POST /connection/lag) every `lag.serverReportInterval`.

/** Most lag samples sent in one report (the server's limit). */
const LAG_REPORT_MAX = 100;

export class LagReporter {
  #stats;
  #clock;
  #ctx;
  #reportInterval;
  #serverReport;
  #serverInterval;
  /** Whether the application wants a connection: no timers run otherwise. */
  #wanted;
  /** Whether anyone listens to `lag` events. */
  #listening;
  #emit;
  #timer = null;
  #reported = 0;
  /** Live lag samples (ms) not yet sent to the server, at most LAG_REPORT_MAX. */
  #pending = [];
  #serverTimer = null;

  /**
   * @param {object} o `stats` (LagStats), `clock`, `ctx` (the transports' context: `url`,
   *   `fetch`), `reportInterval`, `serverReport`, `serverInterval`, and the callbacks `wanted()`,
   *   `listening()` and `emit(snapshot)`.
   */
  constructor(o) {
    this.#stats = o.stats;
    this.#clock = o.clock;
    this.#ctx = o.ctx;
    this.#reportInterval = o.reportInterval;
    this.#serverReport = o.serverReport;
    this.#serverInterval = o.serverInterval;
    this.#wanted = o.wanted;
    this.#listening = o.listening;
    this.#emit = o.emit;
  }

  /**
   * The lag (ms) of a publication: receive time minus its `ts`, or null without one. Recovered
   * publications waited for the reconnect: that is outage, not delivery lag, so they are not
   * added to the statistics.
   */
  measure(msg, recovered) {
    if (!Number.isFinite(msg.ts)) return null;
    const lag = this.#clock.now() - msg.ts;
    if (!recovered) {
      this.#stats.add(lag);
      if (this.#serverReport && this.#pending.length < LAG_REPORT_MAX) this.#pending.push(lag);
    }
    return lag;
  }

  snapshot() {
    return this.#stats.snapshot();
  }

  /** Arms both reports (when wanted: the event only while someone listens). */
  start() {
    this.armEvents();
    this.#armServerReports();
  }

  /** Stops both reports and drops the samples not sent yet. */
  stop() {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#serverTimer !== null) this.#clock.clearTimeout(this.#serverTimer);
    this.#serverTimer = null;
    this.#pending = [];
  }

  /**
   * Sends the lag samples gathered since the last report to the server (POST /connection/lag,
   * feeding its herald_client_delivery_lag_seconds histogram) every `lag.serverReportInterval`:
   * best effort, failures are ignored, nothing is sent when there are no new samples.
   */
  #armServerReports() {
    if (this.#serverTimer !== null || !this.#serverReport || !this.#wanted()) return;
    this.#serverTimer = this.#clock.setTimeout(() => {
      this.#serverTimer = null;
      this.#sendReport();
      this.#armServerReports();
    }, this.#serverInterval);
  }

  #sendReport() {
    const fetchFn = this.#ctx.fetch;
    if (this.#pending.length === 0 || typeof fetchFn !== 'function') return;
    const samples = this.#pending.map((ms) => Math.max(0, Math.round(ms)));
    this.#pending = [];
    try {
      Promise.resolve(fetchFn(`${this.#ctx.url}/connection/lag`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ samples }),
        credentials: 'include',
        cache: 'no-store',
        keepalive: true,
      })).catch(() => {});
    } catch {
      // best effort
    }
  }

  /** Arms the `lag` event (a listener was added, or the client started). */
  armEvents() {
    if (this.#timer !== null || this.#reportInterval <= 0 || !this.#wanted() || !this.#listening()) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      const snapshot = this.#stats.snapshot();
      if (snapshot.total > this.#reported) {
        this.#reported = snapshot.total;
        this.#emit(snapshot);
      }
      this.armEvents();
    }, this.#reportInterval);
  }
}
