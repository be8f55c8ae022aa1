// @vitest-environment node
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestHerald } from '@herald/testing/herald';
import { ensureBuilt, launchBrowser, newContext, signIn, skipReason, startConsoleServer } from './harness.js';

const skip = skipReason();

describe.skipIf(skip)(`console broadcast and users${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let herald: TestHerald;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await ensureBuilt();
    [herald, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
    const admin = await herald.user('chief', { admin: true });
    page = await (await newContext(browser, 'en-US')).newPage();
    await page.goto(`${herald.url}/login?next=%2Fusers`);
    await signIn(page, admin.username, admin.password);
    await page.getByTestId('header-badge').getByText('Connected', { exact: true }).waitFor({ timeout: 10_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  });

  it('creates a user and grants, then revokes, admin rights', async () => {
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#username').fill('alice');
    await dialog.locator('#password').fill('alice-password-1');
    await dialog.getByRole('button', { name: 'OK' }).click();
    const row = page.locator('tr', { has: page.getByRole('cell', { name: 'alice', exact: true }) });
    await row.waitFor();
    const toggle = row.getByRole('switch');
    await expect(toggle.getAttribute('aria-checked')).resolves.toBe('false');

    await toggle.click();
    await page.getByText('alice is now an administrator').waitFor();
    const users = await fetch(`${herald.url}/api/v1/users`, { headers: { authorization: `Bearer ${(await herald.user('probe', { admin: true })).token}` } });
    expect(((await users.json()) as Array<{ username: string; is_admin: boolean }>).find((u) => u.username === 'alice')?.is_admin).toBe(true);

    await toggle.click();
    await page.getByText('alice is no longer an administrator').waitFor();
    await expect(toggle.getAttribute('aria-checked')).resolves.toBe('false');
    // Nobody revokes their own rights from under their feet.
    const self = page.locator('tr', { has: page.getByRole('cell', { name: 'chief', exact: true }) });
    await expect(self.getByRole('switch').isDisabled()).resolves.toBe(true);
  }, 60_000);

  it('sends a system message to one user, who receives it over their own WebSocket', async () => {
    const bob = await herald.user('bob');
    const { openSocket } = await import('@herald/testing/herald');
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${bob.token}`);
    await socket.waitFor((m) => m.type === 'connected');

    await page.getByRole('menuitem', { name: 'Broadcast' }).click();
    await page.getByTestId('broadcast-message').fill('Your upload was approved');
    await page.locator('label', { hasText: 'Warning' }).click();
    await page.locator('label', { hasText: 'One user' }).click();
    await page.locator('#userId').click();
    await page.locator('.ant-select-item-option', { hasText: 'bob' }).click();
    await page.getByTestId('broadcast-send').click();
    await page.getByText('Message sent').waitFor();

    const message = await socket.waitFor((m) => m.type === 'system_message');
    expect(message).toMatchObject({ message: 'Your upload was approved', level: 'warning', stream: `user:${bob.id}` });
    socket.close();
  }, 60_000);

  it('shows "admins only" at once when the signed-in admin loses their rights', async () => {
    const carol = await herald.user('carol', { admin: true });
    const probe = await herald.user('probe2', { admin: true });
    const other = await (await newContext(browser, 'en-US')).newPage();
    await other.goto(`${herald.url}/login?next=%2Fvideos`);
    await signIn(other, carol.username, carol.password);
    await other.getByTestId('header-badge').getByText('Connected', { exact: true }).waitFor({ timeout: 10_000 });

    const revoked = await fetch(`${herald.url}/api/v1/users/${carol.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${probe.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ is_admin: false }),
    });
    expect(revoked.status).toBe(200);
    // The server closes the admin socket with 4003; the console rechecks who it is.
    await other.getByTestId('forbidden').getByText('Admins only').waitFor({ timeout: 10_000 });
    await other.context().close();
  }, 60_000);
});
