import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFfmpeg } from '../ffmpeg.js';
import { makeTestVideo } from '../testing/make-test-video.js';
import { requireService } from '@herald/testing';
import { openSocket, startHerald, until, type TestHerald } from '@herald/testing/herald';

const ffmpeg = await checkFfmpeg().then(
  () => ({ ok: true, why: '' }),
  (error: Error) => ({ ok: false, why: error.message }),
);

describe.runIf(requireService('ffmpeg', ffmpeg.ok, ffmpeg.why))('videos and transcodes over HTTP', () => {
  let herald: TestHerald;
  let admin: Awaited<ReturnType<TestHerald['user']>>;
  let user: Awaited<ReturnType<TestHerald['user']>>;
  const dir = mkdtempSync(join(tmpdir(), 'herald-videos-'));
  const clip = join(dir, 'clip.mp4');

  beforeAll(async () => {
    await makeTestVideo(clip, 2, { width: 320, height: 240 });
    herald = await startHerald({ MAX_UPLOAD_BYTES: '2000000' });
    admin = await herald.user('admin', { admin: true });
    user = await herald.user('viewer');
  }, 60_000);
  afterAll(async () => {
    await herald.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function upload(bytes: Buffer, name: string, token = admin.token) {
    const form = new FormData();
    form.append('title', 'A clip');
    form.append('file', new Blob([new Uint8Array(bytes)]), name);
    const res = await fetch(`${herald.url}/api/v1/videos`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    return { status: res.status, body: await res.json() };
  }

  const json = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${herald.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }).then(async (res) => ({ status: res.status, body: await res.json() }));

  it('accepts a real video, refuses other files, large files and non-admins', async () => {
    const ok = await upload(readFileSync(clip), 'clip.mp4');
    expect(ok).toMatchObject({ status: 201, body: { title: 'A clip', width: 320, height: 240, status: 'uploaded' } });
    expect(ok.body.duration).toBeCloseTo(2, 0);
    expect(await upload(Buffer.from('just text, not a video'), 'notes.mp4')).toMatchObject({ status: 422, body: { error: 'ERR_NOT_A_VIDEO' } });
    expect((await upload(Buffer.alloc(2_500_000, 1), 'big.mp4')).status).toBe(413);
    expect((await upload(readFileSync(clip), 'clip.mp4', user.token)).status).toBe(403);
    const list = await json('/api/v1/videos');
    expect(list.body.items.map((v: { id: number }) => v.id)).toEqual([ok.body.id]);
  });

  it('lists presets and refuses unknown ones with the available list', async () => {
    const presets = await json('/api/v1/transcode/presets');
    expect(presets.body.presets).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'h264_720p', available: true }), expect.objectContaining({ name: 'h264_480p', available: true })]));
    const video = (await upload(readFileSync(clip), 'clip.mp4')).body;
    const bad = await json(`/api/v1/videos/${video.id}/transcode`, 'POST', { formats: ['h265_4k'] });
    expect(bad).toMatchObject({ status: 400, body: { error: 'ERR_TRANSCODE_UNKNOWN_PRESET', message: expect.stringContaining('h264_720p') } });
    expect((await json('/api/v1/videos/99999/transcode', 'POST', { formats: ['h264_480p'] })).status).toBe(404);
  });

  it('transcodes, pushing monotonic progress to 100 before completion, and the polling endpoint agrees', async () => {
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    const video = (await upload(readFileSync(clip), 'clip.mp4')).body;
    const started = await json(`/api/v1/videos/${video.id}/transcode`, 'POST', { formats: ['h264_480p', 'h264_720p'] });
    expect(started).toMatchObject({ status: 202, body: { video_id: video.id, formats: ['h264_480p', 'h264_720p'] } });
    await until(() => socket.of('transcode_complete').filter((m) => m.video_id === video.id).length === 1, 60_000, 'one completion');
    await until(() => socket.of('transcode_progress').some((m) => m.video_id === video.id && m.status === 'completed'), 5000, 'completed tick');
    const ticks = socket.of('transcode_progress').filter((m) => m.video_id === video.id).map((m) => Number(m.progress));
    expect(ticks).toEqual([...ticks].sort((a, b) => a - b));
    expect(ticks.at(-1)).toBe(100);
    const completes = socket.of('transcode_complete').filter((m) => m.video_id === video.id);
    // A 320×240 source: 720p is skipped and said so; 480p is the one file (at the source's size).
    expect(completes.map((m) => m.format_type)).toEqual(['h264_480p']);
    const last = socket.of('transcode_progress').filter((m) => m.video_id === video.id).at(-1);
    expect(last).toMatchObject({ status: 'completed', format: '480p', step: 1, steps: 1, skipped: ['720p'], source_width: 320, source_height: 240 });
    expect(completes.every((m) => Number(m.file_size) > 1000 && typeof m.id === 'number')).toBe(true);
    const status = await json(`/api/v1/videos/${video.id}/transcode-status`);
    expect(status.body).toMatchObject({ video_id: video.id, job_id: started.body.job_id, status: 'completed', progress: 100 });
    expect(status.body.outputs).toEqual(expect.arrayContaining(completes.map((m) => ({ format_type: m.format_type, file_size: m.file_size }))));
    socket.close();
  }, 90_000);

  it('reports a failing ffmpeg run as transcode_failed with its error, and the status says failed', async () => {
    const video = (await upload(readFileSync(clip), 'clip.mp4')).body;
    // The source vanishes between upload and transcode: ffmpeg fails on it.
    rmSync((await herald.videos.store.findVideo(video.id))!.path);
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    await json(`/api/v1/videos/${video.id}/transcode`, 'POST', { formats: ['h264_480p'] });
    const failed = await socket.waitFor((m) => m.type === 'transcode_failed', 30_000);
    expect(failed).toMatchObject({ video_id: video.id, title: 'A clip', error: expect.stringMatching(/\S/), stream: 'admins' });
    expect(socket.of('transcode_complete')).toHaveLength(0);
    expect((await json(`/api/v1/videos/${video.id}/transcode-status`)).body).toMatchObject({ status: 'failed', error: failed.error });
    socket.close();
  }, 90_000);

  it('cancels a running transcode', async () => {
    const long = join(dir, 'long.mp4');
    await makeTestVideo(long, 30, { width: 1280, height: 720 });
    const video = (await upload(readFileSync(long), 'long.mp4')).body;
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    await json(`/api/v1/videos/${video.id}/transcode`, 'POST', { formats: ['h264_720p'] });
    await until(() => socket.of('transcode_progress').some((m) => m.video_id === video.id && m.status === 'processing'), 30_000, 'processing');
    expect((await json(`/api/v1/videos/${video.id}/transcode/cancel`, 'POST', {})).body).toEqual({ cancelled: true });
    await until(() => socket.of('transcode_progress').some((m) => m.video_id === video.id && m.status === 'cancelled'), 10_000, 'cancelled');
    expect((await json(`/api/v1/videos/${video.id}/transcode-status`)).body.status).toBe('cancelled');
    expect(socket.of('transcode_failed').filter((m) => m.video_id === video.id)).toHaveLength(0);
    socket.close();
  }, 90_000);

  it('picks up a transcode interrupted by a restart on the embedded default', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-requeue-'));
    let node = await startHerald({}, { dataDir });
    try {
      const boss = await node.user('boss', { admin: true });
      const long = join(dir, 'long-restart.mp4');
      await makeTestVideo(long, 20, { width: 1280, height: 720 });
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(readFileSync(long))]), 'long.mp4');
      const video = await (await fetch(`${node.url}/api/v1/videos`, { method: 'POST', headers: { authorization: `Bearer ${boss.token}` }, body: form })).json();
      const socket = openSocket(`${node.wsUrl}/api/v1/ws/admin?token=${boss.token}`);
      await socket.waitFor((m) => m.type === 'resumed');
      await fetch(`${node.url}/api/v1/videos/${video.id}/transcode`, { method: 'POST', headers: { authorization: `Bearer ${boss.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ formats: ['h264_720p'] }) });
      await until(() => socket.of('transcode_progress').some((m) => m.status === 'processing'), 30_000, 'processing');
      await node.stop();
      node = await startHerald({}, { dataDir });
      // Resume from where the first socket stopped: the completion may come before it connects.
      const seen = socket.of('system_message').length;
      const again = openSocket(`${node.wsUrl}/api/v1/ws/admin?token=${boss.token}&since=admins@${seen}`);
      await until(() => again.of('transcode_complete').some((m) => m.video_id === video.id), 60_000, 'completion after restart');
      const status = await (await fetch(`${node.url}/api/v1/videos/${video.id}/transcode-status`, { headers: { authorization: `Bearer ${boss.token}` } })).json();
      expect(status).toMatchObject({ status: 'completed', progress: 100, outputs: [expect.objectContaining({ format_type: 'h264_720p' })] });
      again.close();
    } finally {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
