// page-lifecycle.js: the page events Herald follows (docs/client-js.md, "Page lifecycle
// policy") and idle detection. This module only listens and keeps time: what each event means
// for the connection is decided by Herald through the handlers it passes in.

import { INPUT_EVENTS } from './environment.js';

/**
 * Listens to the environment's `online`, `offline`, `visibilitychange`, `pagehide`, `pageshow`,
 * `freeze` and `resume` events, arms the `hiddenTimeout` timer while the page is hidden, and
 * counts the user as idle after `idleAfter` ms without input (0 turns idle detection off).
 *
 * Handlers (`on`): `online()`, `offline()`, `visible()` (after the page became visible and that
 * counted as activity), `hiddenTooLong()` (hidden for `hiddenTimeout` ms and still hidden),
 * `pageHide(persisted)`, `pageShow(persisted)`, `freeze()`, `resume()`, `idleChanged(idle)`.
 */
export class PageLifecycle {
  #env;
  #clock;
  #idleAfter;
  #hiddenTimeout;
  #on;
  #attached = false;
  #hiddenTimer = null;
  #idle = false;
  #lastInputAt = 0;
  #idleTimer = null;

  constructor({ env, clock, idleAfter, hiddenTimeout, on }) {
    this.#env = env;
    this.#clock = clock;
    this.#idleAfter = idleAfter;
    this.#hiddenTimeout = hiddenTimeout;
    this.#on = on;
  }

  /** Whether the user counts as idle (no input for `idleAfter` ms). */
  get idle() {
    return this.#idle;
  }

  attach() {
    if (this.#attached) return;
    this.#attached = true;
    const env = this.#env;
    for (const [type, listener] of this.#pageListeners()) env.addEventListener(type, listener);
    if (this.#idleAfter > 0) {
      for (const type of INPUT_EVENTS) env.addEventListener(type, this.input);
      this.#lastInputAt = this.#clock.now();
      this.#armIdle();
    }
    if (env.visibilityState === 'hidden') this.#armHidden();
  }

  detach() {
    if (!this.#attached) return;
    this.#attached = false;
    const env = this.#env;
    for (const [type, listener] of this.#pageListeners()) env.removeEventListener(type, listener);
    for (const type of INPUT_EVENTS) env.removeEventListener(type, this.input);
    if (this.#idleTimer !== null) this.#clock.clearTimeout(this.#idleTimer);
    if (this.#hiddenTimer !== null) this.#clock.clearTimeout(this.#hiddenTimer);
    this.#idleTimer = this.#hiddenTimer = null;
  }

  #pageListeners() {
    return [
      ['online', this.#onOnline],
      ['offline', this.#onOffline],
      ['visibilitychange', this.#onVisibility],
      ['pagehide', this.#onPageHide],
      ['pageshow', this.#onPageShow],
      ['freeze', this.#onFreeze],
      ['resume', this.#onResume],
    ];
  }

  /** Counts the user as active now (input events, `herald.markActive()`). */
  input = () => {
    this.#lastInputAt = this.#clock.now();
    if (this.#idle) this.#setIdle(false);
  };

  #onOnline = () => this.#on.online();

  #onOffline = () => this.#on.offline();

  #onVisibility = () => {
    if (this.#env.visibilityState === 'hidden') {
      this.#armHidden();
      return;
    }
    if (this.#hiddenTimer !== null) {
      this.#clock.clearTimeout(this.#hiddenTimer);
      this.#hiddenTimer = null;
    }
    this.input(); // coming back to the tab is activity
    this.#on.visible();
  };

  /** Hidden tabs keep their connection unless `hiddenTimeout` is set (see docs: lifecycle). */
  #armHidden() {
    if (this.#hiddenTimeout <= 0 || this.#hiddenTimer !== null) return;
    this.#hiddenTimer = this.#clock.setTimeout(() => {
      this.#hiddenTimer = null;
      if (this.#env.visibilityState === 'hidden') this.#on.hiddenTooLong();
    }, this.#hiddenTimeout);
  }

  #onPageHide = (event) => this.#on.pageHide(Boolean(event?.persisted));

  #onPageShow = (event) => this.#on.pageShow(Boolean(event?.persisted));

  #onFreeze = () => this.#on.freeze();

  #onResume = () => this.#on.resume();

  #armIdle() {
    if (this.#idleAfter <= 0 || !this.#attached) return;
    if (this.#idleTimer !== null) this.#clock.clearTimeout(this.#idleTimer);
    const due = this.#lastInputAt + this.#idleAfter - this.#clock.now();
    this.#idleTimer = this.#clock.setTimeout(() => {
      this.#idleTimer = null;
      // Input only moves the timestamp (pointermove fires a lot); the timer re-checks it.
      if (this.#clock.now() - this.#lastInputAt >= this.#idleAfter) this.#setIdle(true);
      else this.#armIdle();
    }, Math.max(0, due));
  }

  #setIdle(idle) {
    if (this.#idle === idle) return;
    this.#idle = idle;
    if (!idle) this.#armIdle();
    this.#on.idleChanged(idle);
  }
}
