// The specification's front-end code (§2.1–§2.4 and the 混合模式 snippet), pasted verbatim
// into a page (spec-app/), in a real Chromium against a real Herald.
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '@herald/testing/herald';
import { buildSpecApp, jsBytes, launchBrowser, publish, skipReason, stats } from './browser.js';

const skip = skipReason();
let dist: string;
let herald: TestHerald;
let browser: Browser;
let admin: { token: string };
let user: { token: string };

beforeAll(async () => {
  if (skip) return;
  [dist, browser] = await Promise.all([buildSpecApp(), launchBrowser()]);
  herald = await startHerald({ STATIC_DIR: dist, BACKEND_CORS_ORIGINS: '*' });
  admin = await herald.user('admin', { admin: true });
  user = await herald.user('viewer');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await herald?.stop();
  if (dist) rmSync(dist, { recursive: true, force: true });
});

/** A browser context whose pages find `token` in localStorage, as the specification's app stores it. */
async function contextWithToken(token?: string): Promise<BrowserContext> {
  const context = await browser.newContext({ locale: 'zh-CN' });
  context.setDefaultTimeout(8000);
  if (token !== undefined) await context.addInitScript((t) => localStorage.setItem('token', t), token);
  return context;
}

function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

function countRequests(page: Page, fragment: string): { count: number } {
  const counter = { count: 0 };
  page.on('request', (request) => {
    if (request.url().includes(fragment)) counter.count += 1;
  });
  return counter;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.skipIf(skip)('the specification’s components, verbatim, against Herald', { timeout: 30_000 }, () => {
  it('connect with the token from localStorage, show 已连接, the unread count and live progress', async () => {
    const context = await contextWithToken(admin.token);
    try {
      const page = await context.newPage();
      const errors = consoleErrors(page);
      await page.goto(`${herald.url}/?video=7`);
      await page.getByTestId('badge-header').getByText('已连接').waitFor();
      // <WebSocketProvider> with no props picked the admin endpoint from the admin's token.
      expect((await stats(herald.url)).total_admin_connections).toBe(1);

      await publish(herald.url, admin.token, { message: 'one', target: 'admin' });
      await publish(herald.url, admin.token, { message: 'two', target: 'admin' });
      await page.locator('[data-testid=badge-header] [aria-label="notifications (2)"]').waitFor();
      await page.getByTestId('context-header').locator('.ant-badge .ant-scroll-number[title="2"]').waitFor();

      await herald.notifications.notifyTranscodeProgress(7, 'processing', 45, '已完成720p转码 (2/3)');
      await page.getByTestId('transcode').locator('[role=progressbar][aria-valuenow="45"]').waitFor();
      await page.getByTestId('transcode').getByText('processing: 已完成720p转码 (2/3)').waitFor();

      // §2.2's Header: markAsRead straight as the click handler clears the count everywhere.
      // (the count bubble covers the small bell's centre, so the click is dispatched on the bell itself)
      await page.getByTestId('context-header').locator('.anticon-bell').dispatchEvent('click');
      await page.locator('[data-testid=badge-header] [aria-label="notifications (0)"]').waitFor();
      // (the status of video 7, which does not exist, is polled and answered 404)
      expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('fall back to polling while the WebSocket is blocked, 3× more often than while connected', async () => {
    // Two browsers' worth of state (contexts): in one, the page would share the other's socket.
    const context = await contextWithToken(admin.token);
    const other = await contextWithToken(admin.token);
    try {
      const blocked = await context.newPage();
      await blocked.routeWebSocket(/\/api\/v1\/ws/, (ws) => ws.close({ code: 1011, reason: 'blocked by test' }));
      const blockedPolls = countRequests(blocked, '/api/v1/videos/9/transcode-status');
      const hybridPolls = countRequests(blocked, '/api/v1/ws/stats?from=hybrid');
      const connected = await other.newPage();
      const connectedPolls = countRequests(connected, '/api/v1/videos/9/transcode-status');
      await Promise.all([blocked.goto(`${herald.url}/?video=9&poll=300&hybrid`), connected.goto(`${herald.url}/?video=9&poll=300`)]);
      await connected.getByTestId('badge-header').getByText('已连接').waitFor();
      await blocked.getByTestId('hybrid').getByText('polling').waitFor();

      const start = { blocked: blockedPolls.count, connected: connectedPolls.count };
      await sleep(2700);
      const blockedRate = blockedPolls.count - start.blocked;
      const connectedRate = connectedPolls.count - start.connected;
      expect(blockedRate).toBeGreaterThanOrEqual(6); // every 300 ms
      expect(connectedRate).toBeLessThanOrEqual(4); // every 900 ms
      expect(blockedRate).toBeGreaterThanOrEqual(2 * Math.max(connectedRate, 1));
      // The 混合模式 snippet polls on its own every 5 s while disconnected.
      await until(() => hybridPolls.count > 0, 'the 混合模式 snippet to poll', 8000);
    } finally {
      await context.close();
      await other.close();
    }
  });

  it('keep working over SSE when WebSocket upgrades fail: 已连接, live count and progress, each message once, read over HTTP', async () => {
    const context = await contextWithToken(admin.token);
    try {
      const page = await context.newPage();
      const errors = consoleErrors(page);
      // As behind a proxy that breaks upgrades: every WebSocket ends at once with 1006.
      await page.routeWebSocket(/\/api\/v1\/ws/, (ws) => ws.close({ code: 1006, reason: '' }));
      await page.goto(`${herald.url}/?video=8`);
      await page.getByTestId('badge-header').getByText('已连接').waitFor({ timeout: 20_000 });
      expect((await stats(herald.url)).transports).toMatchObject({ sse: 1 });

      await publish(herald.url, admin.token, { message: 'sse one', target: 'admin' });
      await publish(herald.url, admin.token, { message: 'sse two', target: 'admin' });
      await page.locator('[data-testid=badge-header] [aria-label="notifications (2)"]').waitFor();
      await herald.notifications.notifyTranscodeProgress(8, 'processing', 60, 'over SSE');
      await page.getByTestId('transcode').locator('[role=progressbar][aria-valuenow="60"]').waitFor();
      await page.getByTestId('context-header').locator('.anticon-bell').dispatchEvent('click');
      await page.locator('[data-testid=badge-header] [aria-label="notifications (0)"]').waitFor();
      expect(errors.filter((e) => !e.includes('404') && !/WebSocket/i.test(e))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('without a token: an error state, one console error naming the cause, and no polling loop', async () => {
    const context = await contextWithToken(undefined);
    try {
      const page = await context.newPage();
      const errors = consoleErrors(page);
      const sockets: string[] = [];
      page.on('websocket', (ws) => sockets.push(ws.url()));
      const polls = countRequests(page, '/transcode-status');
      await page.goto(`${herald.url}/?video=3&poll=200`);
      await page.getByTestId('badge-header').locator('[data-error=ERR_NO_TOKEN]').getByText('连接失败').waitFor();
      await page.getByTestId('transcode').locator('[data-error=ERR_NO_TOKEN]').waitFor();
      await sleep(800);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/ERR_NO_TOKEN.*no token.*localStorage key "token"/);
      expect(sockets).toEqual([]);
      expect(polls.count).toBe(0);
    } finally {
      await context.close();
    }
  });

  it.each([
    ['a token Herald refuses (4001)', 'not-a-jwt', /ERR_AUTH.*4001 /],
    ['a user token on the admin hooks (4003)', 'USER', /ERR_FORBIDDEN.*4003 /],
  ])('with %s: one console error naming the close reason', async (_name, token, pattern) => {
    const context = await contextWithToken(token === 'USER' ? user.token : token);
    try {
      const page = await context.newPage();
      const errors = consoleErrors(page);
      await page.goto(`${herald.url}/?page=hooks`);
      await until(() => errors.length > 0, 'a console error');
      await sleep(800);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(pattern);
      await expect(page.getByTestId('hook-1').textContent()).resolves.toContain('已断开');
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skip)('one connection per browser', { timeout: 40_000 }, () => {
  async function openTabs(context: BrowserContext, count: number, query: string): Promise<{ pages: Page[]; sockets: Array<{ page: Page; at: number }> }> {
    const sockets: Array<{ page: Page; at: number }> = [];
    const pages: Page[] = [];
    for (let i = 0; i < count; i += 1) {
      const page = await context.newPage();
      page.on('websocket', () => sockets.push({ page, at: Date.now() }));
      pages.push(page);
    }
    await Promise.all(pages.map((page) => page.goto(`${herald.url}/?page=hooks${query}`)));
    for (const page of pages) {
      for (const hook of ['hook-1', 'hook-2', 'hook-3']) await page.getByTestId(hook).getByText('连接状态: 已连接').waitFor();
    }
    return { pages, sockets };
  }

  it('4 tabs × 3 hooks use 1 socket, and 4 with the cross-tab switch off', async () => {
    const shared = await contextWithToken(admin.token);
    try {
      const { sockets } = await openTabs(shared, 4, '');
      await sleep(300);
      expect(sockets).toHaveLength(1);
      expect((await stats(herald.url)).total_connections).toBe(1);
    } finally {
      await shared.close();
    }
    await until(async () => (await stats(herald.url)).total_connections === 0, 'the sockets to close');
    const perTab = await contextWithToken(admin.token);
    try {
      const { sockets } = await openTabs(perTab, 4, '&crossTab=0');
      expect(sockets).toHaveLength(4);
      expect((await stats(herald.url)).total_connections).toBe(4);
    } finally {
      await perTab.close();
    }
    await until(async () => (await stats(herald.url)).total_connections === 0, 'the sockets to close');
  });

  it('unread counts agree in every tab, and a read in a follower tab clears them all', async () => {
    const context = await contextWithToken(admin.token);
    try {
      const pages = [await context.newPage(), await context.newPage()];
      const sockets: Page[] = [];
      for (const page of pages) page.on('websocket', () => sockets.push(page));
      await Promise.all(pages.map((page) => page.goto(`${herald.url}/?video=1`)));
      for (const page of pages) await page.getByTestId('badge-header').getByText('已连接').waitFor();
      const before = (await pages[0]!.locator('[data-testid=badge-header] [aria-label^="notifications ("]').getAttribute('aria-label'))!;
      const base = Number(/\((\d+)\)/.exec(before)![1]);
      await publish(herald.url, admin.token, { message: 'x', target: 'admin' });
      await publish(herald.url, admin.token, { message: 'y', target: 'admin' });
      for (const page of pages) await page.locator(`[data-testid=badge-header] [aria-label="notifications (${base + 2})"]`).waitFor();
      expect(sockets).toHaveLength(1);
      const follower = pages.find((page) => page !== sockets[0])!;
      await follower.getByTestId('context-header').locator('.anticon-bell').dispatchEvent('click');
      for (const page of pages) await page.locator('[data-testid=badge-header] [aria-label="notifications (0)"]').waitFor();
    } finally {
      await context.close();
    }
  });

  it('when the leader tab closes another takes over within 2 s, and no message is lost or duplicated', async () => {
    const context = await contextWithToken(admin.token);
    try {
      const { pages, sockets } = await openTabs(context, 3, '');
      expect(sockets).toHaveLength(1);
      const leader = sockets[0]!.page;
      const followers = pages.filter((p) => p !== leader);
      const sent: string[] = [];
      let closedAt = 0;
      for (let i = 1; i <= 40; i += 1) {
        const message = `m${i}`;
        await publish(herald.url, admin.token, { message, target: 'admin' });
        sent.push(message);
        if (i === 15) {
          closedAt = Date.now();
          await leader.close();
        }
        await sleep(25);
      }
      for (const page of followers) {
        await until(async () => (await page.evaluate(() => window.heraldLog.length)) >= sent.length, 'every message in every tab');
      }
      await sleep(300);
      for (const page of followers) expect(await page.evaluate(() => window.heraldLog)).toEqual(sent);
      expect(sockets).toHaveLength(2);
      const takeover = sockets[1]!;
      expect(followers).toContain(takeover.page);
      console.log(`leader hand-over: new socket ${takeover.at - closedAt} ms after the leader tab closed`);
      expect(takeover.at - closedAt).toBeLessThan(2000);
      expect((await stats(herald.url)).total_connections).toBe(1);
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skip)('bundle', () => {
  it('of the specification app (with Ant Design) is measured', () => {
    const bytes = jsBytes(dist);
    console.log(`spec app with antd: ${bytes} bytes of JavaScript`);
    expect(bytes).toBeGreaterThan(0);
  });
});

declare global {
  interface Window {
    heraldLog: string[];
  }
}
