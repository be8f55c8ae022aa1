// The cluster transcode path end to end: a node enqueues on BullMQ; a separate `herald worker`
// process (the compiled CLI) runs ffmpeg, updates the job row in PostgreSQL and publishes to
// the node over HTTP with the service key, like any outside producer.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFfmpeg } from './ffmpeg.js';
import { makeTestVideo } from './testing/make-test-video.js';
import { TEST_REDIS_URL, freshPostgresSchema, postgresReachable, redisReachable, requireService } from '@herald/testing';
import { openSocket, startHerald, until, type TestHerald } from '@herald/testing/herald';

const CLI = new URL('../../server/dist/cli.js', import.meta.url).pathname;
const SERVICE_KEY = 'worker-test-service-key-0123456789';
const [pg, redis, ffmpeg] = await Promise.all([
  postgresReachable(),
  redisReachable(),
  checkFfmpeg().then(() => ({ ok: true, why: '' }), (e: Error) => ({ ok: false, why: e.message })),
]);
const ready = requireService('PostgreSQL', pg.ok, pg.why) && requireService('Redis', redis.ok, redis.why) && requireService('ffmpeg', ffmpeg.ok, ffmpeg.why);

/** Forwards to the node and records what the worker posts: the proof that it went over HTTP. */
function recordingProxy(target: () => string) {
  const seen: Array<{ method: string; path: string; auth: string; body: unknown; status: number }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      const answer = await fetch(`${target()}${req.url}`, { method: req.method, headers: { authorization: req.headers.authorization ?? '', 'content-type': req.headers['content-type'] ?? 'application/json' }, body: body || undefined });
      const text = await answer.text();
      seen.push({ method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization ?? '', body: body ? JSON.parse(body) : undefined, status: answer.status });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
    });
  });
  return { server, seen };
}

describe.runIf(ready)('herald worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-worker-'));
  const prefix = `w${randomBytes(4).toString('hex')}:`;
  const proxy = recordingProxy(() => node.url);
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let node: TestHerald;
  let worker: ChildProcess;
  let workerLog = '';

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    const env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, DATA_DIR: dir, HERALD_SERVICE_KEY: SERVICE_KEY };
    node = await startHerald(env, { dataDir: dir });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const address = proxy.server.address() as { port: number };
    const heraldUrl = `http://127.0.0.1:${address.port}`;
    worker = spawn(process.execPath, [CLI, 'worker'], { env: { ...process.env, ...env, HERALD_URL: heraldUrl, LOG_LEVEL: 'info', MEDIA_DIR: join(dir, 'media') } });
    worker.stdout?.on('data', (c) => (workerLog += c));
    worker.stderr?.on('data', (c) => (workerLog += c));
    await until(() => workerLog.includes('transcode worker started'), 20_000, 'the worker to start');
  }, 60_000);
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await node?.stop();
    proxy.server.close();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a job queued by a node and publishes its progress and completion over HTTP to the node's WebSocket clients", async () => {
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
    const { job_id } = await started.json();
    const complete = await socket.waitFor((m) => m.type === 'transcode_complete', 60_000);
    expect(complete).toMatchObject({ video_id: video.id, job_id, format_type: 'h264_480p', stream: 'admins', offset: expect.any(Number) });
    expect(existsSync(join(dir, 'media', String(video.id), 'h264_480p.mp4'))).toBe(true);
    await until(() => socket.of('transcode_progress').some((m) => m.status === 'completed'), 10_000, 'completed');
    const ticks = socket.of('transcode_progress').map((m) => Number(m.progress));
    expect(ticks).toEqual([...ticks].sort((a, b) => a - b));

    // Every event the socket saw was posted by the worker to the publish API with the service key.
    const posted = proxy.seen.filter((r) => r.method === 'POST' && r.path === '/api/v1/events');
    expect(posted.every((r) => r.auth === `Bearer ${SERVICE_KEY}` && r.status === 202)).toBe(true);
    const events = posted.flatMap((r) => r.body as Array<Record<string, unknown>>);
    expect(events).toContainEqual(expect.objectContaining({ type: 'transcode_complete', target: 'admin', job_id, format_type: 'h264_480p', file_size: complete.file_size }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'transcode_progress', target: 'admin', job_id, status: 'completed', progress: 100 }));
    expect(proxy.seen.filter((r) => r.path !== '/api/v1/events')).toEqual([]);

    // The worker wrote the job row in the shared database: the node's polling endpoint agrees.
    const status = await (await fetch(`${node.url}/api/v1/videos/${video.id}/transcode-status`, { headers: auth })).json();
    expect(status).toMatchObject({ status: 'completed', progress: 100, outputs: [{ format_type: 'h264_480p', file_size: complete.file_size }] });
    socket.close();
  }, 90_000);

  async function startFails(env: Record<string, string>): Promise<{ code: number | null; err: string }> {
    const child = spawn(process.execPath, [CLI, 'worker'], { env: { ...process.env, REDIS_URL: TEST_REDIS_URL, HERALD_URL: 'http://127.0.0.1:9', HERALD_SERVICE_KEY: SERVICE_KEY, DATA_DIR: dir, ...env } });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, err: err.trim() };
  }

  it('refuses to start without REDIS_URL, HERALD_URL or HERALD_SERVICE_KEY, with one clear line', async () => {
    const [noRedis, noUrl, noKey] = await Promise.all([startFails({ REDIS_URL: '' }), startFails({ HERALD_URL: '' }), startFails({ HERALD_SERVICE_KEY: '' })]);
    expect(noRedis).toMatchObject({ code: 1, err: expect.stringMatching(/^herald: configuration error: REDIS_URL: /) });
    expect(noUrl).toMatchObject({ code: 1, err: expect.stringMatching(/^herald: configuration error: HERALD_URL: /) });
    expect(noKey).toMatchObject({ code: 1, err: expect.stringMatching(/^herald: configuration error: HERALD_SERVICE_KEY: /) });
  }, 60_000);
});
