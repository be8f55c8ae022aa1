// @vitest-environment node
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestHerald } from '@herald/testing/herald';
import { bell, ensureBuilt, launchBrowser, newContext, publish, screenshot, signIn, skipReason, startConsoleServer } from './harness.js';

const skip = skipReason();

describe.skipIf(skip)(`console notifications${skip ? ` (skipped: ${skip})` : ''}`, () => {
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

  it('shows a system message as a toast and on the badge; a read in one tab lowers the badge in the other', async () => {
    const admin = await herald.user('ops', { admin: true });
    const context = await newContext(browser, 'en-US');
    const first = await context.newPage();
    await first.goto(`${herald.url}/login?next=%2Fnotifications`);
    await signIn(first, admin.username, admin.password);
    await first.waitForURL(`${herald.url}/notifications`);
    const second = await context.newPage(); // same profile: already signed in
    await second.goto(`${herald.url}/`);
    for (const page of [first, second]) await page.getByTestId('header-badge').getByText('Connected', { exact: true }).waitFor({ timeout: 10_000 });
    await bell(first, 0).waitFor();

    await publish(herald, admin.token, { message: 'Maintenance in 10 minutes', level: 'warning', target: 'admin' });

    for (const page of [first, second]) {
      await page.locator('.ant-notification-notice').getByText('Maintenance in 10 minutes').waitFor();
      await bell(page, 1).waitFor();
    }
    // The inbox shows it at once, unread, without a reload.
    const row = first.locator('[data-testid=inbox-row]', { hasText: 'Maintenance in 10 minutes' });
    await expect(row.getAttribute('data-read')).resolves.toBe('false');
    await screenshot(first, 'notifications');

    await row.getByTestId('mark-read').click();
    await bell(first, 0).waitFor();
    await bell(second, 0).waitFor(); // the server tells every device of the user
    await first.locator('[data-testid=inbox-row][data-read=true]', { hasText: 'Maintenance in 10 minutes' }).waitFor();
    await context.close();
  }, 60_000);

  it('filters the inbox by type and level and pages through it with the cursor', async () => {
    const admin = await herald.user('pager', { admin: true });
    for (let i = 1; i <= 23; i++) await publish(herald, admin.token, { message: `bulk ${i}`, level: i % 2 ? 'info' : 'error', target: admin.id });
    const context = await newContext(browser, 'en-US');
    const page = await context.newPage();
    await page.goto(`${herald.url}/login?next=%2Fnotifications`);
    await signIn(page, admin.username, admin.password);
    await page.locator('[data-testid=inbox-row]', { hasText: 'bulk 23' }).waitFor();
    const rows = page.locator('[data-testid=inbox-row]', { hasText: 'bulk' });
    expect(await rows.count()).toBe(20);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByRole('cell', { name: 'bulk 1', exact: true }).waitFor();
    expect(await rows.count()).toBe(23);

    // Level is filtered in the console (the API filters type and read state).
    await page.locator('.ant-select', { hasText: 'Level: All' }).click();
    await page.locator('.ant-select-item-option', { hasText: 'Error' }).click();
    await expect.poll(() => rows.count()).toBe(11);
    // Type goes to the API: no transcode results in this inbox.
    await page.locator('.ant-select', { hasText: 'Type: All' }).click();
    await page.locator('.ant-select-item-option', { hasText: 'Transcode failed' }).click();
    await expect.poll(() => rows.count()).toBe(0);
    await context.close();
  }, 60_000);

  it('delivers what was published while the server was down, after it comes back, without a reload', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-console-restart-'));
    let node = await startConsoleServer({}, { dataDir });
    const port = new URL(node.url).port;
    try {
      const admin = await node.user('night', { admin: true });
      const context = await newContext(browser, 'zh-CN');
      const page = await context.newPage();
      await page.goto(`${node.url}/login?next=%2Fnotifications`);
      await signIn(page, admin.username, admin.password);
      await page.getByTestId('header-badge').getByText('已连接', { exact: true }).waitFor({ timeout: 10_000 });
      await publish(node, admin.token, { message: 'before the outage', target: 'admin' });
      await page.locator('[data-testid=inbox-row]', { hasText: 'before the outage' }).waitFor();

      await node.stop();
      await page.getByTestId('header-badge').getByText(/已断开/).waitFor({ timeout: 10_000 });

      // Written while the console's server is unreachable: another node on the same data, then gone.
      const other = await startConsoleServer({}, { dataDir });
      await publish(other, admin.token, { message: 'during the outage 1', level: 'error', target: 'admin' });
      await publish(other, admin.token, { message: 'during the outage 2', target: 'all' });
      await other.stop();

      node = await startConsoleServer({ PORT: port }, { dataDir });
      await page.getByTestId('header-badge').getByText('已连接', { exact: true }).waitFor({ timeout: 30_000 });
      for (const text of ['during the outage 1', 'during the outage 2']) {
        await page.locator('[data-testid=inbox-row]', { hasText: text }).waitFor({ timeout: 10_000 });
      }
      await bell(page, 3).waitFor();
      expect(await page.locator('[data-testid=inbox-row]', { hasText: 'before the outage' }).count()).toBe(1);
      await context.close();
    } finally {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
