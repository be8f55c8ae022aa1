// The cluster transcode path end to end: a node enqueues on BullMQ, a `herald worker`
// process (the compiled CLI) runs ffmpeg and reports through the shared store and Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, startHerald, until, type TestHerald } from '@herald/testing/herald';
import { TEST_REDIS_URL, freshPostgresSchema, postgresReachable, redisReachable, requireService } from '@herald/testing';
import { checkFfmpeg, makeTestVideo } from './index.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const [pg, redis, ffmpeg] = await Promise.all([
  postgresReachable(),
  redisReachable(),
  checkFfmpeg().then(() => ({ ok: true, why: '' }), (e: Error) => ({ ok: false, why: e.message })),
]);
const ready = requireService('PostgreSQL', pg.ok, pg.why) && requireService('Redis', redis.ok, redis.why) && requireService('ffmpeg', ffmpeg.ok, ffmpeg.why);

describe.runIf(ready)('herald worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-worker-'));
  const prefix = `w${randomBytes(4).toString('hex')}:`;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let node: TestHerald;
  let worker: ChildProcess;
  let workerLog = '';

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    const env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, DATA_DIR: dir };
    node = await startHerald(env, { dataDir: dir });
    worker = spawn(process.execPath, [CLI, 'worker'], { env: { ...process.env, ...env, LOG_LEVEL: 'info', MEDIA_DIR: join(dir, 'media') } });
    worker.stdout?.on('data', (c) => (workerLog += c));
    worker.stderr?.on('data', (c) => (workerLog += c));
    await until(() => workerLog.includes('transcode worker started'), 20_000, 'the worker to start');
  }, 60_000);
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await node?.stop();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a job queued by a node and every admin sees its progress and completion', async () => {
    const admin = await node.user('admin', { admin: true });
    const clip = join(dir, 'clip.mp4');
    await makeTestVideo(clip, 2);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(readFileSync(clip))]), 'clip.mp4');
    const auth = { authorization: `Bearer ${admin.token}` };
    const video = await (await fetch(`${node.url}/api/v1/videos`, { method: 'POST', headers: auth, body: form })).json();
    const socket = openSocket(`${node.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    const started = await fetch(`${node.url}/api/v1/videos/${video.id}/transcode`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ formats: ['h264_480p'] }) });
    expect(started.status).toBe(202);
    const complete = await socket.waitFor((m) => m.type === 'transcode_complete', 60_000);
    expect(complete).toMatchObject({ video_id: video.id, format_type: 'h264_480p', stream: 'admins' });
    expect(existsSync(join(dir, 'media', String(video.id), 'h264_480p.mp4'))).toBe(true);
    await until(() => socket.of('transcode_progress').some((m) => m.status === 'completed'), 10_000, 'completed');
    const status = await (await fetch(`${node.url}/api/v1/videos/${video.id}/transcode-status`, { headers: auth })).json();
    expect(status).toMatchObject({ status: 'completed', progress: 100 });
    socket.close();
  }, 90_000);

  it('refuses to start without REDIS_URL, with one clear line', async () => {
    const child = spawn(process.execPath, [CLI, 'worker'], { env: { ...process.env, REDIS_URL: '', DATA_DIR: dir } });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err.trim()).toMatch(/^herald: configuration error: REDIS_URL: /);
  });
});
