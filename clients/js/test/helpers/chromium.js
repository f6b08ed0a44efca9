// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (HERALD_CHROMIUM overrides
// it) driven by playwright-core; no browser is downloaded.

import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * One browser for a test file: started before its tests when `enabled` (the server tests run),
 * closed after them. Returns a function that gives a new browser context; `timeout` bounds the
 * start (ms).
 */
export function useChromium(enabled, timeout) {
  let browser;
  before(async () => {
    if (enabled) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout });
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser.newContext();
}
