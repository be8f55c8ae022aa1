// @vitest-environment node
// The console over Server-Sent Events when WebSocket upgrades fail (blocked with playwright's
// WebSocket routing), and the browser's own EventSource resuming with Last-Event-ID.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { until } from '@herald/testing';
import type { TestHerald } from '@herald/testing/herald';
import { bell, ensureBuilt, launchBrowser, newContext, publish, signIn, skipReason, startConsoleServer } from './harness.js';

const skip = skipReason();

describe.skipIf(skip)(`console over SSE${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let herald: TestHerald;
  let browser: Browser;

  beforeAll(async () => {
    await ensureBuilt();
    [herald, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  }, 60_000);

  it('keeps working over SSE when every WebSocket upgrade fails: live toast, badge, mark read, each message once', async () => {
    const admin = await herald.user('proxied', { admin: true });
    const context = await newContext(browser, 'en-US');
    let upgrades = 0;
    // Like a proxy that breaks upgrades: every WebSocket to Herald ends at once with 1006.
    await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
      upgrades++;
      void ws.close({ code: 1006, reason: '' });
    });
    const page = await context.newPage();
    await page.goto(`${herald.url}/login?next=%2Fnotifications`);
    await signIn(page, admin.username, admin.password);
    await page.getByTestId('header-badge').getByText('Connected', { exact: true }).waitFor({ timeout: 20_000 });
    expect(upgrades).toBeGreaterThanOrEqual(2);
    expect((await herald.manager.getConnectionCount()).transports).toEqual({ ws: 0, sse: 1 });
    await bell(page, 0).waitFor();

    await publish(herald, admin.token, { message: 'Published over SSE', level: 'warning', target: 'admin' });
    await page.locator('.ant-notification-notice').getByText('Published over SSE').waitFor();
    await bell(page, 1).waitFor();
    const row = page.locator('[data-testid=inbox-row]', { hasText: 'Published over SSE' });
    await row.waitFor();
    await row.getByTestId('mark-read').click(); // over HTTP: the stream brings notifications_read back
    await bell(page, 0).waitFor();
    await publish(herald, admin.token, { message: 'Second over SSE', target: 'all' });
    await bell(page, 1).waitFor();
    expect(await page.locator('[data-testid=inbox-row]', { hasText: 'Published over SSE' }).count()).toBe(1);
    expect(await page.locator('[data-testid=inbox-row]', { hasText: 'Second over SSE' }).count()).toBe(1);
    await context.close();
  }, 90_000);

  it("resumes the browser's EventSource with Last-Event-ID across a server restart, exactly once; refuses a bad token", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-sse-restart-'));
    let node = await startConsoleServer({}, { dataDir });
    const port = new URL(node.url).port;
    const context = await newContext(browser, 'en-US');
    try {
      const user = await node.user('listener');
      const page = await context.newPage();
      await page.goto(`${node.url}/login`);
      await page.evaluate((token) => {
        const w = window as unknown as { got: string[]; closes: unknown[]; refused: unknown[] };
        w.got = [];
        w.closes = [];
        w.refused = [];
        const es = new EventSource(`/api/v1/sse?token=${token}`);
        es.onmessage = (e) => w.got.push(JSON.parse(e.data).type === 'system_message' ? JSON.parse(e.data).message : '');
        es.addEventListener('close', (e) => w.closes.push(JSON.parse((e as MessageEvent).data)));
        const bad = new EventSource('/api/v1/sse?token=not-a-token');
        bad.addEventListener('close', (e) => {
          w.refused.push(JSON.parse((e as MessageEvent).data));
          bad.close(); // a refusal is final: EventSource would otherwise reconnect
        });
      }, user.token);
      const got = () => page.evaluate(() => (window as unknown as { got: string[] }).got.filter(Boolean));
      await until(async () => (await page.evaluate(() => (window as unknown as { refused: unknown[] }).refused.length)) === 1, 10_000, 'the refusal');
      expect(await page.evaluate(() => (window as unknown as { refused: unknown[] }).refused[0])).toEqual({ code: 4001, reason: 'token malformed' });

      await node.notifications.notifySystemMessage('one', 'info', user.id);
      await until(async () => (await got()).length === 1, 10_000, 'one');
      await node.stop();
      const other = await startConsoleServer({}, { dataDir });
      await other.notifications.notifySystemMessage('two', 'info', user.id);
      await other.notifications.notifySystemMessage('three', 'info', 'all');
      await other.stop();
      node = await startConsoleServer({ PORT: port }, { dataDir });
      await until(async () => (await got()).length >= 3, 30_000, 'the missed messages after the restart');
      await node.notifications.notifySystemMessage('four', 'info', user.id);
      await until(async () => (await got()).length >= 4, 10_000, 'four');
      expect(await got()).toEqual(['one', 'two', 'three', 'four']);
      const closes = await page.evaluate(() => (window as unknown as { closes: Array<{ code: number }> }).closes);
      expect(closes[0].code).toBe(1001);
    } finally {
      await context.close();
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
