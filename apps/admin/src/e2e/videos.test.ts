// @vitest-environment node
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestHerald } from '@herald/testing/herald';
import { checkFfmpeg } from '../../../../packages/transcode/src/ffmpeg.js';
import { makeTestVideo } from '../../../../packages/transcode/src/testing/make-test-video.js';
import { ensureBuilt, launchBrowser, newContext, screenshot, signIn, skipReason, startConsoleServer } from './harness.js';

const ffmpeg = await checkFfmpeg().then(
  () => undefined,
  (error: Error) => `ffmpeg unavailable: ${error.message}`,
);
if (ffmpeg && process.env.CI === 'true') throw new Error(ffmpeg);
const skip = skipReason() ?? ffmpeg;

describe.skipIf(skip)(`console videos${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let herald: TestHerald;
  let browser: Browser;
  let page: Page;
  const progressFrames: Array<{ progress: number }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'herald-console-videos-'));
  const clip = join(dir, 'harbour.mp4');
  const longClip = join(dir, 'long-take.mp4');

  beforeAll(async () => {
    await ensureBuilt();
    [herald, browser] = await Promise.all([
      startConsoleServer(),
      launchBrowser(),
      makeTestVideo(clip, 3, { width: 320, height: 240 }),
      makeTestVideo(longClip, 60, { width: 640, height: 360 }),
    ]);
    const admin = await herald.user('editor', { admin: true });
    page = await (await newContext(browser, 'en-US')).newPage();
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        if (typeof payload === 'string' && payload.includes('"transcode_progress"')) progressFrames.push(JSON.parse(payload) as { progress: number });
      }),
    );
    await page.goto(`${herald.url}/login?next=%2Fvideos`);
    await signIn(page, admin.username, admin.password);
    await page.getByTestId('header-badge').getByText('Connected', { exact: true }).waitFor({ timeout: 10_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = (title: string) => page.locator('[data-testid=video-row]', { hasText: title });

  async function upload(path: string, title: string) {
    await page.locator('input[type=file]').setInputFiles(path);
    await row(title).waitFor({ timeout: 20_000 });
  }

  async function transcode(title: string) {
    await row(title).getByTestId('transcode').click();
    await page.getByTestId('transcode-start').click();
  }

  it('uploads a video, transcodes it with live progress up to 100%, and shows the result', async () => {
    await upload(clip, 'harbour');
    await expect(row('harbour').textContent()).resolves.toContain('320×240');
    await transcode('harbour');

    // Progress is pushed over the WebSocket and rendered by TranscodeStatus.
    await row('harbour').locator('[data-status=completed]').waitFor({ timeout: 60_000 });
    await row('harbour').locator('[role=progressbar][aria-valuenow="100"]').waitFor();
    expect(progressFrames.length).toBeGreaterThan(0);
    await page.locator('.ant-notification-notice', { hasText: 'Transcode complete: harbour' }).first().waitFor();
    // The list reloads on completion: format and size of each output.
    await row('harbour').getByTestId('video-results').locator('.ant-tag').first().waitFor({ timeout: 15_000 });
    expect(await row('harbour').getByTestId('video-results').textContent()).toMatch(/h264_\w+ · [\d.,]+\s?(byte|kB|MB)/);
    await screenshot(page, 'videos');
  }, 90_000);

  it('cancels a running transcode', async () => {
    await upload(longClip, 'long-take');
    await transcode('long-take');
    await row('long-take').locator('[data-status=processing]').waitFor({ timeout: 30_000 });
    await row('long-take').getByTestId('cancel').click();
    await row('long-take').locator('[data-status=cancelled]').waitFor({ timeout: 30_000 });
    await row('long-take').getByTestId('transcode').waitFor({ timeout: 15_000 });
  }, 90_000);

  it('falls back to polling while the WebSocket is unavailable, and still sees the job finish', async () => {
    const admin = await herald.user('offline-editor', { admin: true });
    const context = await newContext(browser, 'zh-CN');
    // Every admin WebSocket this page opens is refused; HTTP still works.
    await context.routeWebSocket(/\/api\/v1\/ws\/admin/, (ws) => ws.close({ code: 1011, reason: 'blocked by the test' }));
    const offline = await context.newPage();
    await offline.goto(`${herald.url}/login?next=%2Fvideos`);
    await signIn(offline, admin.username, admin.password);
    await offline.getByTestId('header-badge').getByText(/已断开/).waitFor({ timeout: 10_000 });

    const offlineRow = offline.locator('[data-testid=video-row]', { hasText: 'harbour' });
    await offlineRow.getByTestId('transcode').click();
    await offline.getByTestId('transcode-start').click();
    // TranscodeStatus polls GET /api/v1/videos/{id}/transcode-status (every 5 s while disconnected).
    await offlineRow.locator('[data-status=completed]').waitFor({ timeout: 30_000 });
    await offlineRow.getByText('已完成').waitFor();
    await context.close();
  }, 60_000);
});
