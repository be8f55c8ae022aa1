/**
 * Shared set-up of the console's browser tests: a built console (built at most once per
 * run, also when several test files start at the same time), a real Herald serving it,
 * and a headless Chromium driven by playwright-core.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserSkipReason, launchChromium } from '@herald/testing/browser';
import { startHerald, type TestHerald } from '@herald/testing/herald';

const execFileP = promisify(execFile);
export const ADMIN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = resolve(ADMIN_DIR, '../..');
export const DIST = join(ADMIN_DIR, 'dist');
/** Each run's screenshots (test artifacts); the README's come from layout.test.ts (docs/screenshots/). */
export const SCREENSHOTS = join(ADMIN_DIR, 'e2e-artifacts/screenshots');
const LOCK = join(ADMIN_DIR, '.e2e-build.lock');

/** Why the browser tests cannot run here, or `undefined` when they can. CI must not skip. */
export function skipReason(): string | undefined {
  return browserSkipReason('console browser tests');
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'e2e' || entry.endsWith('.test.ts') || entry.endsWith('.test.tsx')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

function isStale(): boolean {
  const built = join(DIST, 'index.html');
  if (!existsSync(built)) return true;
  const sources = [
    join(ADMIN_DIR, 'src'),
    join(ADMIN_DIR, 'index.html'),
    join(ADMIN_DIR, 'vite.config.ts'),
    join(REPO, 'packages/react/src'),
    join(REPO, 'packages/client/src'),
    join(REPO, 'packages/protocol/src'),
  ];
  return Math.max(...sources.map(newestMtime)) > statSync(built).mtimeMs;
}

/** The vite this workspace installed for apps/admin (hoisted or not). */
function viteBin(): string {
  return join(dirname(createRequire(join(ADMIN_DIR, 'package.json')).resolve('vite/package.json')), 'bin/vite.js');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds `apps/admin/dist` when missing or older than its sources; one builder at a time. */
export async function ensureBuilt(): Promise<void> {
  for (;;) {
    if (!isStale()) return;
    try {
      mkdirSync(LOCK);
    } catch {
      // Another test file is building; a lock older than 3 minutes was left by a crash.
      if (Date.now() - statSync(LOCK, { throwIfNoEntry: false })!.mtimeMs > 180_000) rmSync(LOCK, { recursive: true, force: true });
      await sleep(250);
      continue;
    }
    try {
      if (isStale()) await execFileP(process.execPath, [viteBin(), 'build', '--logLevel', 'warn'], {
          cwd: ADMIN_DIR,
          // Vitest sets NODE_ENV=test, which would give a development build of React and antd.
          env: { ...process.env, NODE_ENV: 'production' },
        });
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  }
}

export const launchBrowser: () => Promise<Browser> = launchChromium;

/** A Herald node serving the built console. */
export function startConsoleServer(env: Record<string, string> = {}, options: { dataDir?: string } = {}): Promise<TestHerald> {
  return startHerald({ STATIC_DIR: DIST, BACKEND_CORS_ORIGINS: '*', ...env }, options);
}

export async function newContext(browser: Browser, locale = 'zh-CN'): Promise<BrowserContext> {
  return browser.newContext({ locale, viewport: { width: 1366, height: 820 } });
}

/** Signs in through the login form (the page must show it). */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('button[type=submit]').click();
}

/** Saves `<SCREENSHOTS>/<name>.png` once toasts and messages have gone (they cover the header). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.locator('.ant-notification-notice, .ant-message-notice').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => undefined);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** The header badge's bell, whose label carries the unread count. */
export const bell = (page: Page, count: number) => page.locator(`[data-testid=header-badge] [aria-label="notifications (${count})"]`);

export async function publish(herald: TestHerald, token: string, body: { message: string; level?: string; target?: string | number }): Promise<void> {
  const response = await fetch(`${herald.url}/api/v1/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
}
