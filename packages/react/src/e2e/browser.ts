/**
 * Shared set-up of @herald/react's browser tests: the specification's components built
 * into a page with Vite, a headless Chromium driven by playwright-core, and helpers that
 * read what a real Herald sees.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { browserSkipReason, launchChromium } from '@herald/testing/browser';

export const execFileP = promisify(execFile);
export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = join(E2E_DIR, '../../../..');

/** Why the browser tests cannot run here, or `undefined` when they can. CI must not skip. */
export function skipReason(): string | undefined {
  return browserSkipReason();
}

/** The vite the workspace installed. */
export function viteBin(from = REPO): string {
  return join(dirname(createRequire(join(from, 'package.json')).resolve('vite/package.json')), 'bin/vite.js');
}

/** Builds the spec app into a fresh temporary directory and returns it. */
export async function buildSpecApp(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'herald-spec-app-'));
  await execFileP(process.execPath, [viteBin(), 'build', '--config', join(E2E_DIR, 'vite.config.mjs')], {
    cwd: E2E_DIR,
    // Vitest sets NODE_ENV=test, which would give a development build of React and antd.
    env: { ...process.env, NODE_ENV: 'production', HERALD_E2E_OUT: out },
  });
  return out;
}

/** Total size in bytes of the JavaScript files under `dir`. */
export function jsBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    if (entry.endsWith('.js')) total += statSync(join(dir, entry)).size;
  }
  return total;
}

export const launchBrowser: () => Promise<Browser> = launchChromium;

/** Herald's cluster-wide statistics, as the specification's `/api/v1/ws/stats` reports them. */
export async function stats(url: string): Promise<{ total_connections: number; total_admin_connections: number; transports?: { ws: number; sse: number } }> {
  const response = await fetch(`${url}/api/v1/ws/stats`);
  return (await response.json()) as { total_connections: number; total_admin_connections: number; transports?: { ws: number; sse: number } };
}

export async function publish(url: string, token: string, body: { message: string; level?: string; target?: string | number }): Promise<void> {
  const response = await fetch(`${url}/api/v1/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
}
