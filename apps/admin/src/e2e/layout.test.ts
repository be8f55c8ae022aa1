// @vitest-environment node
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestHerald } from '@herald/testing/herald';
import { axeProblems, DESKTOP, languageProblems, layoutProblems, PHONE } from './checks.js';
import { ADMIN_DIR, ensureBuilt, launchBrowser, publish, signIn, skipReason, startConsoleServer } from './harness.js';

const skip = skipReason();
/** `HERALD_UPDATE_SCREENSHOTS=1` refreshes the README's screenshots in docs/screenshots/. */
const DOCS = process.env.HERALD_UPDATE_SCREENSHOTS === '1' ? join(ADMIN_DIR, '../../docs/screenshots') : undefined;

type Lang = 'en' | 'zh';
const PAGES: Array<{ path: string; ready: string }> = [
  { path: '/', ready: '[data-testid=feed-item]' },
  { path: '/videos', ready: '.ant-table' },
  { path: '/notifications', ready: '[data-testid=inbox-row]' },
  { path: '/broadcast', ready: '[data-testid=broadcast-message]' },
  { path: '/users', ready: '.ant-table-row' },
  { path: '/no-such-page', ready: '.ant-result' },
  { path: '/login', ready: '#username' },
];
const TEXT: Record<Lang, { connected: string; inbox: string[] }> = {
  en: { connected: 'Connected', inbox: ['Nightly maintenance at 02:00', 'Disk usage at 81%'] },
  zh: { connected: '已连接', inbox: ['今晚 02:00 例行维护', '磁盘使用率 81%'] },
};

describe.skipIf(skip)(`console on phones and desktops, in English and Chinese${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let herald: TestHerald;
  let browser: Browser;
  const pages = {} as Record<Lang, Page>;
  const allowed = {} as Record<Lang, string[]>;

  beforeAll(async () => {
    await ensureBuilt();
    // No '*' and not the console's port: the console connects only because it is same-origin.
    [herald, browser] = await Promise.all([startConsoleServer({ BACKEND_CORS_ORIGINS: 'http://localhost:5173' }), launchBrowser()]);
    for (const lang of ['en', 'zh'] as const) {
      const admin = await herald.user(`ops-${lang}`, { admin: true });
      for (const message of TEXT[lang].inbox) await publish(herald, admin.token, { message, level: 'warning', target: admin.id });
      const context: BrowserContext = await browser.newContext({ locale: lang === 'en' ? 'en-US' : 'zh-CN', viewport: DESKTOP });
      const page = await context.newPage();
      await page.goto(`${herald.url}/login`);
      await signIn(page, admin.username, admin.password);
      await page.getByTestId('header-badge').getByText(TEXT[lang].connected, { exact: true }).waitFor({ timeout: 10_000 });
      pages[lang] = page;
      allowed[lang] = [herald.nodeId, 'ops-en', 'ops-zh', ...TEXT[lang].inbox];
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  }, 60_000);

  async function open(lang: Lang, path: string, ready: string) {
    const page = pages[lang];
    await page.goto(`${herald.url}${path}`);
    await page.locator(ready).first().waitFor({ timeout: 10_000 });
    if (path !== '/login') await page.getByTestId('header-badge').getByText(TEXT[lang].connected, { exact: true }).waitFor({ timeout: 10_000 });
    await page.locator('.ant-spin-spinning').first().waitFor({ state: 'detached', timeout: 5000 }).catch(() => undefined);
    return page;
  }

  for (const lang of ['en', 'zh'] as const) {
    for (const size of [DESKTOP, PHONE]) {
      it(`${lang} at ${size.width}×${size.height}: every page fits, in one language, with no serious accessibility violation`, async () => {
        const page = pages[lang];
        const problems: string[] = [];
        await page.setViewportSize(size);
        for (const { path, ready } of PAGES) {
          await open(lang, path, ready);
          if (path === '/') {
            // A transcode tick with the specification's Chinese message, as the transcoder sends it.
            await herald.notifications.notifyTranscodeProgress(7, 'processing', 45, '正在转码 1080p (1/3)');
            await page.locator('[data-testid=feed-item]', { hasText: '#7' }).first().waitFor();
          }
          const where = `${path} at ${size.width}px`;
          problems.push(...(await layoutProblems(page)).map((p) => `${where}: ${p}`));
          problems.push(...(await languageProblems(page, lang, allowed[lang])).map((p) => `${where}: ${lang === 'en' ? 'Chinese' : 'English'} text "${p}"`));
          // axe takes seconds a page: every page at desktop size; on a phone, the dashboard (compact header, drawer button).
          if (size === DESKTOP || path === '/') problems.push(...(await axeProblems(page)).map((p) => `${where}: ${p}`));
          if (DOCS && (path === '/' || path === '/notifications')) {
            mkdirSync(DOCS, { recursive: true });
            await page.screenshot({ path: join(DOCS, `${path === '/' ? 'dashboard' : 'notifications'}-${lang}-${size === PHONE ? 'phone' : 'desktop'}.png`) });
          }
        }
        expect(problems).toEqual([]);
      }, 120_000);
    }
  }

  it('opens the menu in a drawer on a phone, and keeps the side menu on a desktop', async () => {
    const page = pages.en;
    await page.setViewportSize(PHONE);
    await open('en', '/', '[data-testid=feed-item]');
    expect(await page.getByTestId('side-menu').count()).toBe(0);
    await page.getByTestId('menu-button').click();
    await page.locator('.ant-drawer').getByRole('menuitem', { name: 'Users' }).click();
    await page.waitForURL(`${herald.url}/users`);
    await page.locator('.ant-drawer-content-wrapper').waitFor({ state: 'hidden' });
    // The content keeps the whole width: nothing squeezes it beside a menu.
    const content = await page.locator('main').boundingBox();
    expect(content!.width).toBeGreaterThan(PHONE.width * 0.85);

    await page.setViewportSize(DESKTOP);
    await page.getByTestId('side-menu').getByRole('menuitem', { name: 'Dashboard' }).click();
    await page.waitForURL(`${herald.url}/`);
  }, 60_000);

  it('shows toasts where they cover neither the badge nor the connection state', async () => {
    const page = pages.zh;
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size);
      await open('zh', '/', '[data-testid=feed-item]');
      const admin = await herald.user(`toast-${size.width}`, { admin: true });
      await publish(herald, admin.token, { message: '五分钟后重启', level: 'info', target: 'admin' });
      const toast = page.locator('.ant-notification-notice', { hasText: '五分钟后重启' });
      await toast.waitFor();
      await page.waitForTimeout(400); // the toast slides in
      const [a, b] = [await toast.boundingBox(), await page.getByTestId('header-badge').boundingBox()];
      const overlaps = a!.x < b!.x + b!.width && b!.x < a!.x + a!.width && a!.y < b!.y + b!.height && b!.y < a!.y + a!.height;
      expect(overlaps, `toast ${JSON.stringify(a)} over badge ${JSON.stringify(b)} at ${size.width}px`).toBe(false);
    }
  }, 60_000);

  it.each([
    [4003, 'origin not allowed', 'BACKEND_CORS_ORIGINS'],
    [4009, 'too many connections for this user', 'Too many connections'],
  ])('says why when the server refuses the connection with %i, not just "Disconnected"', async (code, reason, text) => {
    const admin = await herald.user(`refused-${code}`, { admin: true });
    const context = await browser.newContext({ locale: 'en-US', viewport: PHONE });
    await context.routeWebSocket(/\/api\/v1\/ws\/admin/, (ws) => ws.close({ code, reason }));
    const page = await context.newPage();
    await page.goto(`${herald.url}/login`);
    await signIn(page, admin.username, admin.password);
    const notice = page.getByTestId('connection-refused');
    await notice.getByText(text).waitFor({ timeout: 10_000 });
    expect(await notice.textContent()).toContain(String(code));
    expect(await layoutProblems(page)).toEqual([]);
    await context.close();
  }, 60_000);
});
