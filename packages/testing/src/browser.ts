// Debian's Chromium driven by playwright-core, for the console's and the React bindings'
// browser tests. Kept off the package's main entry so tests without a browser never load
// playwright.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Debian's Chromium (package `chromium`), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or `undefined` when they can; with CI=true a missing browser fails instead. */
export function browserSkipReason(what = 'browser tests'): string | undefined {
  const reason = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`;
  if (reason && process.env.CI === 'true') throw new Error(`${what} cannot run: ${reason}`);
  return reason;
}

/**
 * Headless Chromium with the flags this closed network needs (no background networking, no
 * component updates); launch() gives every browser a fresh, empty temporary profile.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
