// @vitest-environment node
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestHerald } from '@herald/testing/herald';
import { ensureBuilt, launchBrowser, newContext, publish, screenshot, signIn, skipReason, startConsoleServer } from './harness.js';

const skip = skipReason();

describe.skipIf(skip)(`console sign-in and access${skip ? ` (skipped: ${skip})` : ''}`, () => {
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

  it('sends a signed-out visitor to sign in and back to the page they asked for, connected', async () => {
    const admin = await herald.user('root', { admin: true });
    const context = await newContext(browser, 'en-US');
    const page = await context.newPage();
    // The console runs under the server's Content-Security-Policy (script-src 'self'): nothing it needs may be refused.
    const refusedByCsp: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && /Content Security Policy/i.test(m.text()) && refusedByCsp.push(m.text())));
    await page.goto(`${herald.url}/users`);
    await page.waitForURL(/\/login\?next=%2Fusers$/);
    await page.locator('#username').waitFor();
    await screenshot(page, 'login');

    await signIn(page, admin.username, admin.password);
    await page.waitForURL(`${herald.url}/users`);
    await page.getByTestId('header-badge').getByText('Connected', { exact: true }).waitFor({ timeout: 10_000 });
    await page.getByRole('cell', { name: 'root', exact: true }).waitFor();
    await screenshot(page, 'users');

    await page.goto(`${herald.url}/`);
    await page.locator('[data-testid=stat-total_admin_connections]').getByText('1').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid=feed-item]').getByText('connected').first().waitFor();
    expect(refusedByCsp).toEqual([]);
    await publish(herald, admin.token, { message: 'Nightly maintenance at 02:00', level: 'warning', target: 'all' });
    await page.locator('[data-testid=feed-item]', { hasText: 'Nightly maintenance at 02:00' }).waitFor();
    await screenshot(page, 'dashboard');

    // Signing out clears the tokens: the next visit asks to sign in again.
    await page.getByTestId('user-menu').click();
    await page.getByText('Sign out').click();
    await page.waitForURL(/\/login/);
    expect(await page.evaluate(() => localStorage.getItem('herald.session'))).toBeNull();
    await context.close();
  }, 60_000);

  it('shows a non-admin an "admins only" page and never opens the admin WebSocket', async () => {
    const user = await herald.user('viewer');
    const context = await newContext(browser);
    const page = await context.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));

    await page.goto(`${herald.url}/login?next=%2Fvideos`);
    await signIn(page, user.username, user.password);
    await page.getByTestId('forbidden').getByText('仅限管理员').waitFor();
    await page.goto(`${herald.url}/users`);
    await page.getByTestId('forbidden').waitFor();
    expect(sockets).toEqual([]);

    // The server refuses the admin endpoint to this user's token with 4003 (give up).
    const code = await page.evaluate(
      ({ url, token }) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(`${url}/api/v1/ws/admin`, ['bearer', token]);
          ws.onclose = (event) => resolve(event.code);
        }),
      { url: herald.wsUrl, token: user.token },
    );
    expect(code).toBe(4003);
    await context.close();
  }, 60_000);

  it('sends an expired session to sign in and back to the page it was on', async () => {
    const admin = await herald.user('lapsed', { admin: true });
    const context = await newContext(browser, 'en-US');
    const page = await context.newPage();
    await page.goto(`${herald.url}/login?next=%2Fbroadcast`);
    await signIn(page, admin.username, admin.password);
    await page.waitForURL(`${herald.url}/broadcast`);
    // Connected first (the shell loads as its own chunk): the page's next request, not the WebSocket, meets the spent session.
    await page.getByTestId('header-badge').getByText('Connected', { exact: true }).waitFor({ timeout: 10_000 });

    // Someone else spends the refresh token (rotation: a reuse now revokes the family) and the
    // access token stops working: the console's refresh is refused, so the session is over.
    const stored = JSON.parse((await page.evaluate(() => localStorage.getItem('herald.session')))!) as { refresh_token: string };
    const spent = await fetch(`${herald.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: stored.refresh_token }),
    });
    expect(spent.status).toBe(200);
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem('herald.session')!) as { access_token: string };
      localStorage.setItem('herald.session', JSON.stringify({ ...session, access_token: 'x.invalid.token' }));
    });
    await page.getByRole('menuitem', { name: 'Users' }).click();
    await page.waitForURL(/\/login\?next=%2Fusers&reason=expired$/);
    await page.getByText('Your session expired, please sign in again').waitFor();

    await signIn(page, admin.username, admin.password);
    await page.waitForURL(`${herald.url}/users`);
    await page.getByRole('cell', { name: 'lapsed', exact: true }).waitFor();
    await context.close();
  }, 60_000);

  it('says so when the password is wrong, in English for an English browser', async () => {
    const context = await newContext(browser, 'en-US');
    const page = await context.newPage();
    await page.goto(`${herald.url}/login`);
    await signIn(page, 'root', 'not-the-password');
    await page.getByTestId('login-error').getByText('Wrong username or password').waitFor();
    await context.close();
  }, 60_000);
});
