// The producer examples run as a platform's backend would run them, against a real Herald:
// Python (standard library) and Node, each event received by a real admin WebSocket.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { TEST_REDIS_URL, commandExists, redisReachable, requireService } from '@herald/testing';
import { openSocket, startHerald, until, type TestHerald, type TestSocket } from '@herald/testing/herald';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const SERVICE_KEY = 'examples-service-key-0123456789';
const hasPython = requireService('python3', commandExists('python3'), 'python3 not on PATH (Debian: python3)');

let herald: TestHerald;
let admin: TestSocket;

beforeAll(async () => {
  herald = await startHerald({ HERALD_SERVICE_KEY: SERVICE_KEY });
  const boss = await herald.user('boss', { admin: true });
  admin = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${boss.token}`);
  await admin.waitFor((m) => m.type === 'connected');
});
afterAll(async () => {
  admin?.close();
  await herald?.stop();
});

const env = () => ({ ...process.env, HERALD_URL: herald.url, HERALD_SERVICE_KEY: SERVICE_KEY, PYTHONDONTWRITEBYTECODE: '1' });

describe.runIf(hasPython)('examples/python', () => {
  const cwd = `${HERE}python`;

  it('the specification’s Celery-style task reports progress, completion and a system message to the admins', async () => {
    const { stdout } = await run('python3', ['transcode_task.py', '4101', '示例视频'], { cwd, env: env() });
    expect(stdout).toContain("'stored': True");
    const complete = await admin.waitFor((m) => m.type === 'transcode_complete' && m.video_id === 4101);
    expect(complete).toMatchObject({ title: '示例视频', format_type: 'h264', file_size: 1024000000, stream: 'admins' });
    const progress = admin.of('transcode_progress').filter((m) => m.video_id === 4101);
    expect(progress.map((m) => m.progress)).toEqual([0, 33, 66, 100]);
    expect(progress.at(-1)).toMatchObject({ status: 'processing', message: '已完成480p转码' });
    await admin.waitFor((m) => m.type === 'system_message' && m.message === '《示例视频》转码完成' && m.level === 'success');
  });

  it('a failing task reports transcode_failed with its error, then fails itself', async () => {
    const script = 'from transcode_task import transcode_video\ntranscode_video(4102, "坏视频", fail=True)';
    const failure = await run('python3', ['-c', script], { cwd, env: env() }).then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('ffmpeg exited with code 1 while encoding 720p');
    const failed = await admin.waitFor((m) => m.type === 'transcode_failed' && m.video_id === 4102);
    expect(failed).toMatchObject({ title: '坏视频', error: 'ffmpeg exited with code 1 while encoding 720p' });
  });

  it('a refused event raises HeraldError with Herald’s status and code', async () => {
    const script = [
      'from herald_producer import HeraldError, notify_system_message',
      'try:',
      '    notify_system_message("x", level="loud")',
      'except HeraldError as e:',
      '    print(e.status, e.code)',
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script], { cwd, env: env() });
    expect(stdout.trim()).toBe('400 ERR_VALIDATION');
  });

  it('refuses to start without the service key, naming the variable', async () => {
    const failure = await run('python3', ['-c', 'import herald_producer as h; h.publish({})'], { cwd, env: { ...env(), HERALD_SERVICE_KEY: '' } }).then(
      () => undefined,
      (error: { stderr: string }) => error,
    );
    expect(failure?.stderr).toContain('HERALD_SERVICE_KEY is not set');
  });

  it('publishes a custom event to a list of users with publish_event', async () => {
    const viewer = await herald.user('py-viewer');
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${viewer.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    const script = `from herald_producer import publish_event\nprint(publish_event("order.shipped", {"order": 42}, target=["${viewer.id}"]))`;
    await run('python3', ['-c', script], { cwd, env: env() });
    expect(await socket.waitFor((m) => m.type === 'order.shipped')).toMatchObject({ data: { order: 42 }, stream: `user:${viewer.id}` });
    socket.close();
  });
});

const redisState = await redisReachable();
const hasRedis = hasPython && requireService('Redis', redisState.ok, redisState.why);
// redis-py is optional: where it is not installed (as on this project's build machines, without
// PyPI) the example falls back to its standard-library PUBLISH; its redis-py path is skipped, also under CI.
const hasRedisPy = hasPython && (await run('python3', ['-c', 'import redis']).then(() => true, () => false));
if (hasPython && !hasRedisPy) console.warn('skipping the redis-py run of examples/python/redis_producer.py: the redis package is not importable (pip install redis)');

describe.runIf(hasRedis)('examples/python/redis_producer.py, Herald in cluster mode', () => {
  const prefix = `ex${randomBytes(4).toString('hex')}:`;
  let clustered: TestHerald;
  let boss: TestSocket;
  let viewer: TestSocket;
  let viewerId: number;

  beforeAll(async () => {
    clustered = await startHerald({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix });
    const admin = await clustered.user('boss', { admin: true });
    const user = await clustered.user('viewer');
    viewerId = user.id;
    boss = openSocket(`${clustered.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    viewer = openSocket(`${clustered.wsUrl}/api/v1/ws?token=${user.token}`);
    await Promise.all([boss.waitFor((m) => m.type === 'resumed'), viewer.waitFor((m) => m.type === 'resumed')]);
  });
  afterAll(async () => {
    boss?.close();
    viewer?.close();
    await clustered?.stop();
  });

  const redisEnv = (requireRedisPy: boolean) => ({ ...process.env, REDIS_URL: TEST_REDIS_URL, HERALD_REDIS_PREFIX: prefix, HERALD_REQUIRE_REDIS_PY: requireRedisPy ? '1' : '0', PYTHONDONTWRITEBYTECODE: '1' });

  async function runExample(requireRedisPy: boolean, videoTag: number) {
    const before = boss.of('transcode_progress').length;
    const { stdout } = await run('python3', ['redis_producer.py', String(viewerId)], { cwd: `${HERE}python`, env: redisEnv(requireRedisPy) });
    expect(Number(stdout.trim())).toBeGreaterThanOrEqual(2);
    // The specification's payload, verbatim: no status, no message, no target.
    await until(() => boss.of('transcode_progress').length > before);
    expect(boss.of('transcode_progress').at(-1)).toMatchObject({ video_id: 123, progress: 45, status: 'processing', message: '' });
    await until(() => viewer.of('system_message').length >= videoTag);
    expect(viewer.of('system_message').at(-1)).toMatchObject({ message: '你的视频已发布', level: 'success', stream: `user:${viewerId}` });
  }

  it('reaches the admins with the specification example and a user with a target (standard-library client)', () => runExample(false, 1));
  // Defined only where redis-py is importable (it cannot be installed on this project's machines: no PyPI); the warning above says so.
  if (hasRedisPy) it('does the same through redis-py', () => runExample(true, 2));
});

describe('examples/node', () => {
  it('runs the specification’s three examples and the admins receive them', async () => {
    const { stdout } = await run(process.execPath, [`${HERE}node/producer.mjs`], { env: env() });
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line) as { events: Array<{ type: string; stored: boolean }> });
    expect(answers.map((a) => [a.events[0].type, a.events[0].stored])).toEqual([
      ['transcode_progress', false],
      ['transcode_complete', true],
      ['system_message', true],
      ['video.published', true],
    ]);
    await admin.waitFor((m) => m.type === 'transcode_progress' && m.video_id === 123 && m.progress === 45);
    await admin.waitFor((m) => m.type === 'transcode_complete' && m.video_id === 123 && m.format_type === 'av1');
    await admin.waitFor((m) => m.type === 'system_message' && m.message === '系统将于10分钟后维护' && m.level === 'warning');
    expect(await admin.waitFor((m) => m.type === 'video.published')).toMatchObject({ data: { video_id: 123, url: '/videos/123' }, stream: 'admins' });
  });
});
